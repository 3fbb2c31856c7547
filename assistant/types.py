"""Small typed values that cross module boundaries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import PurePath
from typing import Any

import numpy as np

#: Texts -> their unit vectors, one row each (an embedder's ``embed_passages``).
EmbedFn = Callable[[list[str]], np.ndarray]
#: ``(sentence ids, sentence texts)`` -> their stored vectors from e5, and from the second embedder
#: (``None`` without one); texts not stored yet are embedded.
SentenceVectorsFn = Callable[[list[str], list[str]], tuple[np.ndarray, np.ndarray | None]]


def file_name(source: str) -> str:
    """A source as shown to users: a path relative to the corpus as it is ("reports/fire.txt"), any
    other path by its file name alone (an upload's ``/srv/…/index/uploads/6d9b…/Harbor Fire.txt`` is
    "Harbor Fire.txt"), so that no answer names a folder on the server."""
    path = PurePath(source)
    return path.name if path.is_absolute() or ".." in path.parts or "uploads" in path.parts else source


@dataclass(frozen=True)
class Document:
    """A loaded source file.

    Attributes:
        source: Where it came from (a path, relative to the corpus folder when inside it).
        title: The first non-empty line, or the file name.
        text: The decoded text. Every chunk and citation offset points into it.
        content_hash: SHA-256 of ``text``; equal files index once.
        pages: Offsets in ``text`` where page 1, 2, ... start (PDFs and scans); empty for files without pages.
    """

    source: str
    title: str
    text: str
    content_hash: str
    pages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, with exact offsets: ``document.text[start:end] == text``.

    ``page`` is the page it starts on (1-based) in a document with pages (PDFs, scans), else 0.
    """

    chunk_id: str
    source: str
    title: str
    paragraph: int
    start: int
    end: int
    text: str
    page: int = 0

    @property
    def file(self) -> str:
        """The document as users know it (:func:`file_name`): never a path on the server."""
        return file_name(self.source)

    @property
    def chunk(self) -> Chunk:
        """The passage alone: this chunk, without what a :class:`Hit` or :class:`Citation` adds to it."""
        return Chunk(**{f.name: getattr(self, f.name) for f in fields(Chunk)})


@dataclass(frozen=True, kw_only=True)
class Hit(Chunk):
    """A retrieved chunk with its ranking score (higher is better): fused, or the reranker's when one
    is configured, and the ``dense``/``lexical`` signals behind it.

    A hit *is* its chunk (it extends :class:`Chunk` rather than holding one), so everything that reads
    a passage (its text, offsets, sentences) takes a hit as it is; :attr:`chunk` gives the plain
    chunk back. Its own fields are keyword-only: ``Hit.of(chunk, score)``.
    """

    score: float
    dense: float = 0.0
    lexical: float = 0.0

    @classmethod
    def of(cls, chunk: Chunk, score: float, **signals: float) -> Hit:
        """``chunk`` retrieved with ``score`` (and the ``dense``/``lexical`` signals behind it)."""
        return cls(**vars(chunk.chunk), score=score, **signals)


@dataclass(frozen=True, kw_only=True)
class Citation(Chunk):
    """One numbered source of an answer: the cited passage, and where in it the answer's support lies.

    It extends :class:`Chunk` (so its JSON stays one flat object) and not :class:`Hit`: its ``score``
    is how well the quote supports the answer, not the retrieval score, and the retrieval signals are
    no part of what an answer cites.
    ``start``/``end`` locate the passage in its source text; ``quote_start``/``quote_end``
    locate the sentence that supports the answer, and ``span_start``/``span_end`` the reader's
    answer inside it, also in source-text offsets.
    """

    number: int
    score: float
    quote: str = ""
    quote_start: int = 0
    quote_end: int = 0
    #: The reader's answer span inside the quote, in source offsets (both 0 when there is none).
    span_start: int = 0
    span_end: int = 0
    #: The quote's key facts in the reader's language when the quote is in the other one ("136 people ·
    #: 7 civilians · Syrian Observatory for Human Rights"), so that they can check it; ``""`` otherwise.
    facts: str = ""

    @classmethod
    def of(cls, number: int, passage: Chunk, score: float, **quote: Any) -> Citation:
        """Source ``number``: the ``passage`` (a chunk or hit), with the ``quote``/``span`` offsets given."""
        return cls(**vars(passage.chunk), number=number, score=score, **quote)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``assistant ask --json`` and the web API: the number first, then
        the passage's fields and the quote's; ``source`` is the file's name (:func:`file_name`)."""
        return {"number": self.number, **asdict(self), "source": self.file}


@dataclass(frozen=True)
class AnswerSpan:
    """The exact words of a source that answer the question: ``document.text[start:end] == text``."""

    text: str
    source: str
    start: int
    end: int

    @property
    def file(self) -> str:
        """The document as users know it (:func:`file_name`)."""
        return file_name(self.source)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: ``source`` is the file's name (:func:`file_name`)."""
        return {**asdict(self), "source": self.file}


@dataclass(frozen=True)
class Answer:
    """A reply: its text with ``[n]`` markers, and the citations they refer to.

    ``short`` is the short answer shown first ("" when refusing or when none was found); ``span`` the
    source words it comes from (``None`` likewise). For a question in the other language than the
    source, ``short`` is rendered for its reader with ``span.text`` beside it.
    """

    text: str
    grounded: bool
    language: str
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    mode: str = "extractive"
    notes: list[str] = field(default_factory=list)
    support: float = 0.0
    retrieved: list[str] = field(default_factory=list)
    short: str = ""
    span: AnswerSpan | None = None
    #: The reader's case for answering (best span score minus no-answer score); ``None`` without a reader.
    reader_margin: float | None = None
    #: ``answer`` (a short answer or quoted claims), ``closest`` (no answer, the closest passage quoted
    #: and labelled so) or ``refusal`` (not in the documents).
    outcome: str = ""
    #: The probability that the short answer is right (selective answering), when it was estimated.
    confidence: float | None = None
    #: The signals the estimate was made from, and what the short-answer checks found.
    signals: dict[str, float] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", "answer" if self.grounded else "refusal")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``assistant ask --json`` and the web API."""
        return {
            "answer": self.text,
            "short": self.short,
            "span": self.span.to_dict() if self.span is not None else None,
            "reader_margin": self.reader_margin,
            "outcome": self.outcome,
            "confidence": self.confidence,
            "checks": list(self.checks),
            "grounded": self.grounded,
            "language": self.language,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "notes": list(self.notes),
            "support": self.support,
            "retrieved": list(self.retrieved),
        }


class AnswerStream:
    """An answer as it is written (simonw/llm's ``Response``): iterate for the draft text, then
    :meth:`answer` for the final :class:`Answer`.

    The draft is the LLM's reply as it arrives; the final answer replaces it (verification may drop
    sentences, or the extractive answer follows a one-line message when the LLM fails). Without an
    LLM there is no draft: iterating yields nothing and :meth:`answer` is the answer.

    Args:
        events: Draft text pieces, then the final answer (last), as the answering code yields them.
        on_answer: Called once with the final answer when it arrives (a chat records its turn).
    """

    def __init__(self, events: Iterable[str | Answer], on_answer: Callable[[Answer], None] | None = None) -> None:
        self._events = iter(events)
        self._on_answer = on_answer
        self._draft: list[str] = []
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for event in self._events:
            if isinstance(event, Answer):
                self._answer = event
                if self._on_answer is not None:
                    self._on_answer(event)
            else:
                self._draft.append(event)
                yield event

    def answer(self) -> Answer:
        """The final answer, reading whatever of the draft is still unread."""
        for _ in self:
            pass
        if self._answer is None:
            raise RuntimeError("the answer stream ended without an answer")
        return self._answer

    def events(self) -> Iterator[str | Answer]:
        """The draft pieces, then the final answer: for wrapping this stream in another."""
        yield from self
        yield self.answer()

    @property
    def draft(self) -> str:
        """The draft text read so far."""
        return "".join(self._draft)


@dataclass
class IndexReport:
    """What one indexing run did, per source."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Documents an interrupted earlier run left incomplete: removed, and re-added by this run when given.
    repaired: list[str] = field(default_factory=list)
    chunks_added: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for people."""
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
        ]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.repaired:
            parts.append(f"{len(self.repaired)} repaired after an interrupted run")
        return ", ".join(parts) + f" ({self.chunks_added} chunks embedded in {self.seconds:.1f}s)"
