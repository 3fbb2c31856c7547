"""The trained reader at run time: the packaged encoder, the shipped LoRA adapter and span head.

``load_reader`` builds it (about a second); ``Reader.read`` scores spans of a few passages for one
question and says how strongly it prefers an answer to none. Everything that is not the model (window
decoding, stitching, the no-answer margin) lives in :mod:`.spans`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...config import ONNX_READER_WEIGHTS
from ...errors import ConfigError
from ...models.onnx import OnnxFiles, OnnxSpanLogits, padded, reader_file
from ...models.precision import apply, runnable
from ...models.reader import (
    SHIPPED_ADAPTER,
    SpanLogits,
    TorchSpanLogits,
    adapter_digest,
    check_adapter,
    merged_model,
)
from ...text.normalize import detect_language
from .spans import SpanCandidate, Window, best_spans, context_offsets, no_answer_margin, stitch, trim_span


@dataclass(frozen=True)
class ReaderSettings:
    """How the reader windows and decodes passages.

    Attributes:
        max_length: Tokens per window (question included), as in training.
        stride: Tokens shared by consecutive windows of one passage.
        max_answer_tokens: Longest span considered.
        max_windows: Windows read per question at most; passages past them are not read, so a huge
            passage cannot hold a request up.
        batch: Windows per forward pass.
    """

    max_length: int = 256
    stride: int = 96
    max_answer_tokens: int = 24
    max_windows: int = 12
    batch: int = 12


@dataclass(frozen=True)
class Reading:
    """What the reader found in the passages of one question.

    Attributes:
        spans: Distinct spans, best first; offsets into ``passages[span.passage]``.
        null: The lowest no-answer score of the windows read.
        windows: How many windows were read.
        unread: Passages (by index) left unread for the window budget.
    """

    spans: tuple[SpanCandidate, ...]
    null: float
    windows: int
    unread: tuple[int, ...] = ()

    @property
    def margin(self) -> float:
        """Best span score minus the no-answer score (:func:`.spans.no_answer_margin`)."""
        return no_answer_margin(self.spans, [self.null])


class TokenWindows:
    """A question and a passage -> overlapping windows of ``max_length`` tokens, cutting the passage
    only and sharing ``stride`` tokens: what transformers does for ``truncation="only_second"`` with
    ``return_overflowing_tokens``, on the fast tokenizer underneath (``tokenizers``), so that the
    ONNX path needs no transformers. The tokenizer may be shared: truncation is set per call under
    ``lock``."""

    def __init__(self, tokenizer: Any, max_length: int, stride: int, lock: Any = None) -> None:
        self._tokenizer = getattr(tokenizer, "backend_tokenizer", tokenizer)
        self._max_length, self._stride = max_length, stride
        self._lock = lock if lock is not None else threading.Lock()

    #: A question longer than this many tokens is read by its start (SQuAD readers' max_query_length):
    #: the passage must keep most of the window.
    max_question_tokens = 64

    def __call__(self, question: str, passage: str) -> list[Any]:
        with self._lock:
            self._tokenizer.no_padding()
            self._tokenizer.no_truncation()
            asked = self._tokenizer.encode(question, add_special_tokens=False)
            if len(asked.ids) > self.max_question_tokens:
                question = question[: asked.offsets[self.max_question_tokens - 1][1]]
            self._tokenizer.enable_truncation(self._max_length, stride=self._stride, strategy="only_second")
            first = self._tokenizer.encode(question, passage)
        return [first, *first.overflowing]


class Reader:
    """Reads passages for a question with a span-extraction model.

    Args:
        model: A transformers question-answering model (torch), or any :class:`SpanLogits` such as
            the ONNX Runtime one (:class:`assistant.models.onnx.OnnxSpanLogits`).
        tokenizer: The model's fast tokenizer (transformers or ``tokenizers``).
        across: Another copy of the model that reads a question in one language over a passage in
            the other (the int8 reader loses more there than within a language, docs/precision.md, so
            ``auto`` reads across languages in fp32); ``None`` reads every window with ``model``.
    """

    def __init__(self, model: Any, tokenizer: Any, settings: ReaderSettings | None = None,
                 name: str = "reader", pad_id: int | None = None, tokenizer_lock: Any = None,
                 across: SpanLogits | None = None) -> None:
        self.model = model
        self._logits: SpanLogits = model if isinstance(model, OnnxSpanLogits) else TorchSpanLogits(model)
        self._across = across
        self.tokenizer = tokenizer
        self.settings = settings or ReaderSettings()
        self._windows = TokenWindows(tokenizer, self.settings.max_length, self.settings.stride, tokenizer_lock)
        self._pad_id = pad_id if pad_id is not None else int(getattr(tokenizer, "pad_token_id", None) or 1)
        self.name = name
        #: The graph the logits come from, on ONNX Runtime (``None`` on torch).
        self.graph: Path | None = getattr(model, "path", None)
        #: One line about how it runs when that differs from what was asked (bf16 unavailable), or "".
        self.note = ""
        self._lock = threading.Lock()  # one model on two cores: queue concurrent questions

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        """Score spans of ``passages`` (in the order given, best-ranked first) for ``question``."""
        return self.read_pairs([(question, list(passages))])[0]

    def read_pairs(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[Reading]:
        """:meth:`read` for several questions at once (evaluation batches their windows together)."""
        s = self.settings
        windows: list[tuple[int, Window]] = []
        ids: list[list[int]] = []
        across: list[bool] = []
        unread: list[list[int]] = [[] for _ in items]
        for item, (question, passages) in enumerate(items):
            taken = 0
            language = detect_language(question) if self._across is not None else ""
            for p, passage in enumerate(passages):
                if not passage.strip():
                    continue
                if taken >= s.max_windows:
                    unread[item].append(p)
                    continue
                other = bool(language) and detect_language(passage) != language
                for encoding in self._windows(question, passage):
                    if taken >= s.max_windows:
                        break
                    windows.append((item, Window(p, context_offsets(encoding.offsets, encoding.sequence_ids))))
                    ids.append(encoding.ids)
                    across.append(other)
                    taken += 1
        starts: list[np.ndarray] = [np.empty(0)] * len(ids)
        ends: list[np.ndarray] = [np.empty(0)] * len(ids)
        with self._lock:
            for model, wanted in ((self._logits, False), (self._across, True)):
                if model is None:
                    continue  # no second graph: every window is marked for the first
                rows = [k for k, a in enumerate(across) if a == wanted]
                for b in range(0, len(rows), s.batch):
                    part = rows[b : b + s.batch]
                    start, end = model(*padded([ids[k] for k in part], self._pad_id))
                    for k, row_start, row_end in zip(part, start, end, strict=True):
                        starts[k], ends[k] = row_start, row_end
        found: list[list[SpanCandidate]] = [[] for _ in items]
        nulls: list[list[float]] = [[] for _ in items]
        for (item, window), start, end in zip(windows, starts, ends, strict=True):
            spans = best_spans(start, end, window, max_tokens=s.max_answer_tokens)
            nulls[item].append(float(start[0] + end[0]))
            found[item] += spans
        readings = []
        for item, (_question, passages) in enumerate(items):
            trimmed = []
            for c in found[item]:
                a, b = trim_span(passages[c.passage], c.start, c.end)
                if b > a:
                    trimmed.append(replace(c, start=a, end=b))
            readings.append(Reading(tuple(stitch(trimmed)[:20]), min(nulls[item], default=0.0), len(nulls[item]),
                                    tuple(unread[item])))
        return readings


def load_reader(base_folder: Path, adapter: Path = SHIPPED_ADAPTER, settings: ReaderSettings | None = None,
                precision: str = "fp32") -> Reader:
    """The packaged encoder with the adapter applied (merged into its weights for speed).

    Args:
        base_folder: The converted multilingual-e5-small folder (:func:`assistant.models.prepare.prepare_e5_folder`).
        adapter: A folder holding ``adapter_config.json`` and ``adapter_model.safetensors``.
        settings: Windowing and decoding.
        precision: ``fp32``, ``bf16`` (bf16 weights: AVX-512 BF16 on this CPU, faster at
            the same F1; docs/precision.md) or ``int8``, which torch runs as bf16 (int8 readers run on
            ONNX Runtime: :func:`load_onnx_reader`); a CPU without bf16 runs fp32. :attr:`Reader.note`
            says when it runs otherwise than asked.

    Raises:
        ReaderUnavailable: A weights file is missing or damaged (one line naming it and the fix).
    """
    adapter = Path(adapter)
    runs = runnable(precision)
    model = merged_model(Path(base_folder), adapter, runs.name)
    from transformers import AutoTokenizer

    reader = Reader(apply(model, runs.name), AutoTokenizer.from_pretrained(str(base_folder)), settings,
                    name=adapter.name)
    reader.note = runs.note
    return reader


def load_onnx_reader(files: OnnxFiles, adapter: Path = SHIPPED_ADAPTER, settings: ReaderSettings | None = None,
                     threads: int = 2, weights: str = "auto") -> Reader | None:
    """The reader on ONNX Runtime from an exported folder (:mod:`assistant.models.onnx`), with
    ``int8`` or ``fp32`` weights, or ``auto``: int8 for a question in its passage's language, fp32
    across languages. Without the int8 copy it reads in fp32 and says so in ``note``. ``None``
    when ``adapter`` was never exported there (``assistant prepare`` exports it).

    Raises:
        ReaderUnavailable: An adapter file is missing.
        OnnxLoadError: The exported graph does not load.
        ConfigError: ``weights`` is none of :data:`assistant.config.ONNX_READER_WEIGHTS`.
    """

    check_adapter(Path(adapter))
    if weights not in ONNX_READER_WEIGHTS:
        raise ConfigError(f"The reader's ONNX weights must be one of {', '.join(ONNX_READER_WEIGHTS)}, got "
                          f"{weights!r}; set ASSISTANT_ONNX_READER=auto.")
    digest = adapter_digest(adapter)
    fp32, int8 = reader_file(files.folder, digest), reader_file(files.folder, digest, "int8")
    if not fp32.is_file():
        return None
    note = ""
    if weights != "fp32" and not int8.is_file():
        # A cache made before the int8 copy, or a quantisation that failed: fp32 reads the same spans.
        note = f"The reader reads in fp32: {int8} is missing; run `assistant prepare` to make it."
        weights = "fp32"
    main = OnnxSpanLogits(files, fp32 if weights == "fp32" else int8, threads)
    across = OnnxSpanLogits(files, fp32, threads) if weights == "auto" else None
    reader = Reader(main, files.tokenizer, settings, name=Path(adapter).name, pad_id=files.pad_id,
                    tokenizer_lock=files.tokenizer_lock, across=across)
    reader.note = note
    return reader
