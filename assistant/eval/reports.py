"""Records and summaries written out: ``records.jsonl``, ``summary.json`` and the comparison table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .scoring import Record, summarize

# -- reports ---------------------------------------------------------------------------------------

_COLUMNS = (
    ("n", "questions"), ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("MRR@10", "mrr@10"), ("nDCG@10", "ndcg@10"),
    ("accuracy", "accuracy"), ("F1", "f1"), ("span EM", "span_em"), ("span F1", "span_f1"),
    ("short ≤80", "short_first_80"), ("short en", "short_in_english"),
    ("cite P", "citation_precision"), ("cite R", "citation_recall"),
    ("refusal acc", "refusal_accuracy"), ("false refusal", "false_refusal_rate"),
    ("short right", "short_right"), ("short wrong", "short_wrong"), ("withheld", "withheld"),
    ("refused", "refused_answerable"), ("wrong/shown", "wrong_among_shown"),
    ("unans. refused", "unanswerable_refused"), ("conv acc", "conversation_accuracy"),
    ("lang match", "language_match"),
    ("faithful", "faithfulness"),
    ("ms p50", "latency_ms_p50"), ("ms p95", "latency_ms_p95"),
)


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
    columns = [(title, key) for title, key in _COLUMNS if any(row[2].get(key) is not None for row in rows)]
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
