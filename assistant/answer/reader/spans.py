"""Pure span logic for the reader: labels for training windows, and decoding windows back to text.

A passage longer than one window is read as overlapping windows of tokens. Each token carries the
character offsets of the text it came from, so a span of tokens maps back to exact characters of the
passage (and, adding the passage's own start, of the source document). Nothing here touches a model:
it works on token offsets and logits, so it is tested on hand-made cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Offsets as the tokenizer gives them: one ``(start, end)`` character pair per token.
Offsets = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Window:
    """One window the reader scored: which tokens are passage text, and where they came from.

    Attributes:
        passage: Index of the passage (among those read for one question) the window covers.
        offsets: Character offsets into that passage, one pair per token; ``None`` for a token that
            is not passage text (the question, special tokens, padding).
    """

    passage: int
    offsets: tuple[tuple[int, int] | None, ...]


@dataclass(frozen=True)
class SpanCandidate:
    """A scored span: character offsets into one passage, and its logit score.

    ``score`` is start logit + end logit; ``null`` is the same window's no-answer score (the logits of
    its first token), so ``score - null`` says how much the window prefers this span to no answer.
    """

    passage: int
    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        """How far the span beats its window's no-answer score (positive: it prefers an answer)."""
        return self.score - self.null


def context_offsets(offsets: Offsets, sequence_ids: Sequence[int | None], context_id: int = 1) -> tuple:
    """Keep the offsets of the passage's tokens (``sequence_ids == context_id``), ``None`` elsewhere."""
    return tuple(
        (int(o[0]), int(o[1])) if sid == context_id and o[1] > o[0] else None
        for o, sid in zip(offsets, sequence_ids, strict=True)
    )


def token_labels(offsets: Sequence[tuple[int, int] | None], char_start: int, char_end: int) -> tuple[int, int]:
    """Token positions of an answer ``[char_start, char_end)`` inside one window, or ``(0, 0)``.

    ``(0, 0)`` points at the first (``<s>``) token, the no-answer label: given when the answer is
    empty, or not wholly inside this window's passage text. An answer that starts or ends inside a
    token takes the whole token. Never loops past the window, so a window edge that cuts a token
    cannot crash training.
    """
    if char_end <= char_start:
        return 0, 0
    inside = [(i, o) for i, o in enumerate(offsets) if o is not None]
    if not inside or inside[0][1][0] > char_start or inside[-1][1][1] < char_end:
        return 0, 0
    start = next((i for i, (s, e) in inside if e > char_start), None)
    end = next((i for i, (s, e) in reversed(inside) if s < char_end), None)
    if start is None or end is None or end < start:
        return 0, 0
    return start, end


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, window: Window, *,
               max_tokens: int = 30, top: int = 20) -> list[SpanCandidate]:
    """The best spans of one window, best first.

    Args:
        start_logits: One score per token that a span starts there.
        end_logits: One score per token that a span ends there.
        window: Which tokens are passage text, and their offsets.
        max_tokens: Longest span considered, in tokens.
        top: How many start and end positions to combine.
    """
    null = float(start_logits[0] + end_logits[0])
    valid = np.array([o is not None for o in window.offsets[: len(start_logits)]], dtype=bool)
    if not valid.any():
        return []
    masked_start = np.where(valid, start_logits[: len(valid)], -np.inf)
    masked_end = np.where(valid, end_logits[: len(valid)], -np.inf)
    starts = np.argsort(masked_start)[::-1][:top]
    ends = np.argsort(masked_end)[::-1][:top]
    found = []
    for s in starts:
        if not valid[s]:
            continue
        for e in ends:
            if not valid[e] or e < s or e - s + 1 > max_tokens:
                continue
            so, eo = window.offsets[s], window.offsets[e]
            found.append(SpanCandidate(window.passage, so[0], eo[1],
                                       float(masked_start[s] + masked_end[e]), null))
    found.sort(key=lambda c: c.score, reverse=True)
    return found


def stitch(candidates: Sequence[SpanCandidate]) -> list[SpanCandidate]:
    """Merge the windows' candidates: one per distinct ``(passage, start, end)``, the best score kept.

    Overlapping windows see the same span twice; the one that scored it highest (usually the window
    where it sits furthest from an edge) wins. Best first.
    """
    best: dict[tuple[int, int, int], SpanCandidate] = {}
    for c in candidates:
        key = (c.passage, c.start, c.end)
        if key not in best or c.score > best[key].score:
            best[key] = c
    return sorted(best.values(), key=lambda c: c.score, reverse=True)


def no_answer_margin(candidates: Sequence[SpanCandidate], nulls: Sequence[float]) -> float:
    """The reader's case for answering: best span score minus the lowest window no-answer score.

    SQuAD 2.0 readers compare the best span with the no-answer score; across several windows and
    passages the no-answer score is the smallest one (the window most sure there *is* an answer).
    Minus infinity when there is no candidate at all.
    """
    if not candidates or not nulls:
        return float("-inf")
    return candidates[0].score - min(nulls)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past surrounding spaces and punctuation that a token carried along."""
    strip = " \t\n\r.,;:!?()[]{}\"'«»،؛؟“”‘’-–—"
    while start < end and text[start] in strip:
        start += 1
    while end > start and text[end - 1] in strip:
        end -= 1
    return start, end
