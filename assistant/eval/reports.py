"""Records and summaries written out: ``records.jsonl``, ``summary.json`` and the comparison table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .scoring import Record, summarize

# -- reports ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One figure of an evaluation summary: its key, its column in the Markdown table (``""``: not a
    column), and its label where a sentence names it (the web chat's evaluation)."""

    key: str
    column: str
    label: str


#: Every figure the reports show, in their order: the one place their names are written.
FIGURES = (
    Figure("questions", "n", "Questions"),
    Figure("hit@1", "hit@1", "Retrieval hit@1"),
    Figure("hit@5", "hit@5", "Retrieval hit@5"),
    Figure("mrr@10", "MRR@10", "Retrieval MRR@10"),
    Figure("ndcg@10", "nDCG@10", "Retrieval nDCG@10"),
    Figure("accuracy", "accuracy", "Answer accuracy"),
    Figure("f1", "F1", "Answer F1"),
    Figure("span_em", "span EM", "Short answer exact match"),
    Figure("span_f1", "span F1", "Short answer F1"),
    Figure("short_first_80", "short ≤80", "Short answer within the first 80 characters"),
    Figure("short_in_english", "short en", "Short answer in English"),
    Figure("citation_evidence_rate", "", "Citation evidence rate"),
    Figure("citation_precision", "cite P", "Citation precision"),
    Figure("citation_recall", "cite R", "Citation recall"),
    Figure("refusal_accuracy", "refusal acc", "Refusal accuracy (unanswerable questions)"),
    Figure("false_refusal_rate", "false refusal", "False refusals (answerable questions)"),
    Figure("short_right", "short right", "Short answer shown and right"),
    Figure("short_wrong", "short wrong", "Short answer shown and wrong"),
    Figure("withheld", "withheld", "Short answer withheld (closest passage)"),
    Figure("refused_answerable", "refused", "Answerable questions refused"),
    Figure("wrong_among_shown", "wrong/shown", "Wrong among short answers shown"),
    Figure("unanswerable_refused", "unans. refused", "Unanswerable questions given no short answer"),
    Figure("conversation_accuracy", "conv acc", "Conversation turns answered"),
    Figure("language_match", "lang match", "Reply in the question's language"),
    Figure("faithfulness", "faithful", "Faithfulness"),
    Figure("latency_ms_p50", "ms p50", "Latency p50 (ms)"),
    Figure("latency_ms_p95", "ms p95", "Latency p95 (ms)"),
)
_LANGUAGES = {"ar": "Arabic questions", "en": "English questions"}


def figure_label(key: str) -> str:
    """A summary key's label: ``accuracy_ar`` -> "Answer accuracy, Arabic questions"."""
    base, _, lang = key.rpartition("_")
    if lang not in _LANGUAGES:
        base, lang = key, ""
    label = next((f.label for f in FIGURES if f.key == base), base)
    return f"{label}, {_LANGUAGES[lang]}" if lang else label


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key.startswith("latency"):
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_table(systems: Mapping[str, Sequence[Record]]) -> str:
    """One Markdown table: a row per system and question language (and overall when mixed).

    Columns a run cannot fill (answer metrics of a retrieval-only system, refusals without
    unanswerable questions) show "–"; columns no row fills are left out.
    """
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for name, records in systems.items():
        languages = sorted({r.lang for r in records if r.lang})
        for lang in languages:
            rows.append((name, lang, summarize([r for r in records if r.lang == lang])))
        if len(languages) != 1:
            rows.append((name, "all", summarize(list(records))))
    columns = [(f.column, f.key) for f in FIGURES
               if f.column and any(row[2].get(f.key) is not None for row in rows)]
    lines = ["| system | lang | " + " | ".join(t for t, _ in columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    for name, lang, summary in rows:
        lines.append(f"| {name} | {lang} | " + " | ".join(_cell(k, summary.get(k)) for _, k in columns) + " |")
    if any(not r.answered for records in systems.values() for r in records):
        lines.append("\nms: a full ask (retrieve and answer) for answering systems, the search alone for "
                     "retrieval-only ones.")
    return "\n".join(lines) + "\n"


def write_records(records: Sequence[Record], path: Path) -> Path:
    """Write records as JSONL (one per line, Arabic kept readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    return path


def read_records(path: Path) -> list[Record]:
    """Records written by :func:`write_records` (an earlier ``assistant eval`` run).

    Raises:
        ConfigError: The file is missing or not eval records.
    """
    known = {f.name for f in fields(Record)}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [Record(**{k: v for k, v in json.loads(line).items() if k in known}) for line in lines if line.strip()]
    except (OSError, ValueError, TypeError) as error:
        raise ConfigError(f"Cannot read eval records from {path} ({error}); give the records.jsonl an earlier "
                          "`assistant eval --calibrate --out DIR` run wrote into DIR.") from error


def answer_changes(before: Sequence[Record], after: Sequence[Record]) -> str:
    """The answers that changed between two runs of the same set, as Markdown a person can read:
    each question whose outcome or lead changed, with both replies' first lines. Pure."""
    old = {r.id: r for r in before}
    lines = []
    for record in after:
        previous = old.get(record.id)
        if previous is None:
            continue
        then, now = _lead(previous), _lead(record)
        if (previous.outcome, then) != (record.outcome, now):
            mark = {True: "fixed", False: "broke"}.get(record.correct, "") if previous.correct != record.correct \
                else "changed"
            lines.append(f"- **{record.id}** ({mark}) {record.question}\n  - before: [{previous.outcome or '?'}] "
                         f"{then}\n  - now: [{record.outcome or '?'}] {now}")
    head = f"# Answers changed since the previous run\n\n{len(lines)} of {len(after)} questions.\n\n"
    return head + ("\n".join(lines) + "\n" if lines else "")


def _lead(record: Record) -> str:
    return record.answer.split("\n")[0][:160]
