"""Claims: the sentences of an LLM answer with the ``[n]`` markers they carry, the sources they
cite, and the verdict on each. Pure."""


from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..text.lexicon import DIGIT_CLASS, EASTERN_DIGITS
from ..text.normalize import (
    Span,
    split_sentences,
)

#: A citation marker: [1], [1, 2], [1-3], [١], [source 2], [المصدر ٢].
MARKER = re.compile(
    rf"\[\s*(?:(?:sources?|src|المصدر|مصدر)\s*:?\s*)?([{DIGIT_CLASS}]+(?:\s*[,،\-–]\s*[{DIGIT_CLASS}]+)*)\s*\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Source:
    """A numbered passage the LLM was given. ``text`` is the passage; ``start`` its source offset."""

    number: int
    text: str
    start: int = 0
    #: Its sentences, offsets relative to ``text``; split here when empty.
    sentences: tuple[Span, ...] = ()
    #: One unit vector per sentence, when already known (the index stores them).
    vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReaderAnswer:
    """What the trained reader answered to the same question over the same passages.

    Attributes:
        values: Its answer spans as the passages write them: one, or one per source when the
            sources disagree (any of them may be stated).
        margin: Its case for answering at all: best span score minus no-answer score.
        speakers: When the sources disagree, who gives each value (``""`` when its sentence does
            not say); a sentence stating one of the values must name its speaker, so a value with
            no known speaker is never shown attributed.
        asked: The source whose figure the question asks for ("according to X"), or ``""``; when
            the sources disagree, a sentence must give that source's value.
    """

    values: tuple[str, ...]
    margin: float
    speakers: tuple[str, ...] = ()
    asked: str = ""


@dataclass(frozen=True)
class Claim:
    """One sentence of the answer: as written (``raw``), without markers (``text``), and its markers."""

    raw: str
    text: str
    cited: tuple[int, ...]
    separator: str = " "


@dataclass(frozen=True)
class Verdict:
    """The outcome for one sentence.

    Attributes:
        claim: The sentence.
        supported: Whether it survives.
        citations: Source numbers it keeps (original numbering).
        removed: Markers it loses (no such source, or a source that does not support it).
        similarity: Best similarity to a sentence of a cited (or, uncited, any) passage.
        quotes: The best-matching sentence of each kept source, in source offsets.
        reason: Why it is unsupported, ``""`` when supported.
        repaired: True when an uncited sentence was given its citation here.
        gap: How far the cited source's similarity falls below the best source's (0 when it is the best).
    """

    claim: Claim
    supported: bool
    citations: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    similarity: float = 0.0
    quotes: dict[int, Span] = field(default_factory=dict)
    reason: str = ""
    repaired: bool = False
    gap: float = 0.0


# -- splitting ----------------------------------------------------------------------------------

def marker_numbers(inside: str) -> list[int]:
    """The source numbers in a marker's inside: ``"1, 3"`` -> [1, 3]; ``"2-4"`` -> [2, 3, 4]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,،]\s*", inside.translate(EASTERN_DIGITS).strip()):
        bounds = re.split(r"\s*[\-–]\s*", part)
        if len(bounds) == 2 and all(b.isdigit() for b in bounds) and 0 <= int(bounds[1]) - int(bounds[0]) <= 20:
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+", re.IGNORECASE)


def split_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences (``. ! ? ؟ ؛`` and newlines), each with its ``[n]`` markers.

    A marker written after the full stop ("... killed. [1]") belongs to the sentence before it.
    """
    spans = split_sentences(answer)
    pieces: list[tuple[str, str]] = []  # (sentence as written, separator after it)
    for index, span in enumerate(spans):
        following = spans[index + 1].start if index + 1 < len(spans) else len(answer)
        separator = "\n" if "\n" in answer[span.end:following] else " "
        raw = span.text
        leading = _LEADING_MARKERS.match(raw)
        if leading and pieces:
            previous, previous_separator = pieces[-1]
            raw = raw[leading.end():].strip()
            pieces[-1] = (f"{previous} {leading.group(0).strip()}", previous_separator if raw else separator)
            if not raw:
                continue
        pieces.append((raw, separator))
    claims = []
    for raw, separator in pieces:
        cited = tuple(dict.fromkeys(n for m in MARKER.finditer(raw) for n in marker_numbers(m.group(1))))
        text = _strip_markers(raw)
        if text.strip(" .،,-–—:؛*"):
            claims.append(Claim(raw, text, cited, separator))
    return claims


def _strip_markers(raw: str) -> str:
    return re.sub(r"\s+([.,!?؟،؛:])", r"\1", " ".join(MARKER.sub(" ", raw).split()))
