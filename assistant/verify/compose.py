"""The verified answer written out: unsupported sentences dropped or marked, citations renumbered
in order of use. Pure."""


from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..text.normalize import (
    Span,
)
from .claims import MARKER, Claim, Verdict, _strip_markers, marker_numbers


@dataclass(frozen=True)
class Composed:
    """The verified answer text, its citations renumbered 1..m in order of first use.

    Attributes:
        text: The answer; every ``[k]`` in it maps to ``order[k - 1]``.
        order: Original source numbers, in their new order.
        quotes: For each original source number, the sentence quoted as its support.
        dropped: The sentences removed (or marked), with the reason.
    """

    text: str
    order: list[int]
    quotes: dict[int, Span]
    dropped: list[tuple[str, str]]


def compose(verdicts: Sequence[Verdict], mode: str = "drop", unverified_mark: str = "(unverified)") -> Composed:
    """Write the verified answer: supported sentences with renumbered markers; the rest dropped or marked."""
    order: list[int] = []
    quotes: dict[int, Span] = {}
    parts: list[str] = []
    dropped: list[tuple[str, str]] = []
    for verdict in verdicts:
        claim = verdict.claim
        if not verdict.supported:
            dropped.append((claim.text, verdict.reason))
            if mode == "mark":
                parts.extend([f"{_strip_markers(claim.raw)} {unverified_mark}", claim.separator])
            continue
        for number in verdict.citations:
            if number not in order:
                order.append(number)
            quotes.setdefault(number, verdict.quotes[number])
        parts.extend([_renumber(claim, verdict, order), claim.separator])
    text = "".join(parts).strip()
    return Composed(text, order, quotes, dropped)


def _renumber(claim: Claim, verdict: Verdict, order: list[int]) -> str:
    kept = set(verdict.citations)

    def replace(match: re.Match[str]) -> str:
        numbers = [order.index(n) + 1 for n in dict.fromkeys(marker_numbers(match.group(1))) if n in kept]
        return "".join(f"[{n}]" for n in numbers)

    text = MARKER.sub(replace, claim.raw)
    text = re.sub(r"[ \t]+([.,!?؟،؛:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    if verdict.repaired:
        text = _append_marker(text, f"[{order.index(verdict.citations[0]) + 1}]")
    return text


def _append_marker(text: str, marker: str) -> str:
    """Put a marker before the sentence's final punctuation: "was 136." -> "was 136 [1]."."""
    match = re.search(r"[.!?؟؛]+[\"'»”)\]]*$", text)
    if match:
        return f"{text[:match.start()].rstrip()} {marker}{text[match.start():]}"
    return f"{text} {marker}"
