"""What verification did to an LLM's answers over a question set: the real-model bench's report.

Every sentence the LLM wrote ends in one of three places: kept in the answer (its ``text``),
dropped or marked as unsupported (a note ``dropped: «sentence» — reason``), or dropped with the
whole answer when nothing it said was supported (the extractive answer then follows, and the
notes still list each sentence). Answers the LLM did not write (it failed, returned an empty or
looping reply, or said the sources do not answer) are counted by kind. Pure over eval records.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..answer.prompts.loader import load_citation_qa
from ..verify import split_claims
from .metrics import percentile
from .scoring import Record

_JUDGED = re.compile(r"^(dropped|marked): «(.*)» — (.*)$", re.DOTALL)
_NOT_USED = re.compile(r"^LLM answer not used: (\w+)")
LLM_REFUSAL_NOTE = "the LLM found no answer in the sources"


@dataclass(frozen=True)
class SentenceOutcome:
    """One sentence the LLM wrote, and what verification did with it."""

    question_id: str
    sentence: str
    outcome: str  # "kept", "dropped" or "marked"
    reason: str = ""
    quotes: tuple[str, ...] = ()  # kept: the cited passages' supporting sentences


def involved_llm(record: Record) -> bool:
    """True when the LLM was asked: its answer was used, or a note says why it was not."""
    return record.mode == "llm" or any(_NOT_USED.match(note) for note in record.notes)


def fallback_kind(record: Record) -> str:
    """Why the LLM's answer was not used (``unverified``, ``timeout``, …), ``""`` when it was."""
    return next((m.group(1) for m in map(_NOT_USED.match, record.notes) if m), "")


def sentences(record: Record) -> list[SentenceOutcome]:
    """The LLM's sentences for one record: kept ones from the answer, the others from the notes."""
    if not involved_llm(record):
        return []
    judged = [SentenceOutcome(record.id, m.group(2), m.group(1), m.group(3))
              for m in map(_JUDGED.match, record.notes) if m]
    kept = []
    marks = tuple(wording["unverified"] for wording in load_citation_qa().values())
    if record.mode == "llm" and record.grounded:
        quotes = {c["number"]: c.get("quote") or c["text"] for c in record.citations}
        for claim in split_claims(record.answer):
            if claim.text.endswith(marks):
                continue  # a marked sentence (ASSISTANT_VERIFICATION__MODE=mark), listed from its note
            kept.append(SentenceOutcome(record.id, claim.text, "kept",
                                        quotes=tuple(quotes[n] for n in claim.cited if n in quotes)))
    return kept + judged


def llm_summary(records: Sequence[Record]) -> dict[str, Any]:
    """Counts over the records where the LLM was asked: answers used, fallbacks by kind, refusals,
    sentences kept, dropped and marked, and the latency of those questions. Empty when it never was."""
    asked = [r for r in records if involved_llm(r)]
    if not asked:
        return {}
    outcomes = Counter(s.outcome for r in asked for s in sentences(r))
    latencies = [r.latency_ms for r in asked]
    return {
        "llm_asked": len(asked),
        "llm_answers_used": sum(1 for r in asked if r.mode == "llm" and r.grounded),
        "llm_refusals": sum(1 for r in asked if LLM_REFUSAL_NOTE in r.notes),
        "fallbacks": dict(Counter(fallback_kind(r) for r in asked if fallback_kind(r))),
        "sentences_kept": outcomes["kept"],
        "sentences_dropped": outcomes["dropped"],
        "sentences_marked": outcomes["marked"],
        "markers_removed": sum(1 for r in asked for n in r.notes if n.startswith("removed [")),
        "markers_added": sum(1 for r in asked for n in r.notes if n.startswith("cited: ")),
        "llm_latency_ms_p50": round(percentile(latencies, 50), 1),
        "llm_latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def write_llm_report(records: Sequence[Record], path: Path) -> Path:
    """A Markdown list, question by question, of every sentence the LLM wrote and its fate.

    Kept sentences come with the sentences of the passages they cite, so a reader can judge
    whether each one is right: verification's misses are among them.
    """
    summary = llm_summary(records)
    lines = ["# LLM answers through verification", ""]
    lines += [f"- {key}: {value}" for key, value in summary.items()]
    for record in records:
        if not involved_llm(record):
            continue
        kind = fallback_kind(record)
        verdict = "correct" if record.correct else ("unanswerable" if not record.answerable else "wrong")
        lines += ["", f"## {record.id} ({record.lang}, {verdict}; "
                      f"{'extractive after ' + kind if kind else 'LLM answer'}; {record.latency_ms / 1000:.1f} s)",
                  "", f"Q: {record.question}", ""]
        if LLM_REFUSAL_NOTE in record.notes:
            lines.append("- the LLM said the sources do not answer")
        for sentence in sentences(record):
            lines.append(f"- **{sentence.outcome}**: {sentence.sentence}"
                         + (f" — {sentence.reason}" if sentence.reason else ""))
            lines += [f"  - cites: «{quote}»" for quote in sentence.quotes]
        if kind:
            lines.append(f"- answer shown: {record.answer.split(chr(10))[0]} …")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
