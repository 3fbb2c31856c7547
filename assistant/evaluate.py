"""Question set -> per-question records -> metrics. Scoring is pure over plain data."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .errors import ConfigError
from .text import normalize_arabic
from .types import Answer


@dataclass(frozen=True)
class Question:
    """One item of a question set (a conversation when ``turns`` has more than one entry)."""

    id: str
    lang: str
    turns: list[str]
    answers: list[str]
    evidence: list[str]
    answerable: bool = True
    all_answers: bool = False

    @property
    def question(self) -> str:
        """The last (scored) turn."""
        return self.turns[-1]


@dataclass
class Record:
    """What happened to one question."""

    id: str
    lang: str
    question: str
    answer: str
    grounded: bool
    answerable: bool
    correct: bool
    evidence_cited: bool
    citations: list[dict[str, Any]]
    retrieved: list[str]
    latency_ms: float
    support: float = 0.0
    turns: list[str] = field(default_factory=list)


def default_question_files() -> list[Path]:
    """The shipped question set: single questions and conversations."""
    data = resources.files("assistant") / "data"
    return [Path(str(data / "questions.jsonl")), Path(str(data / "conversations.jsonl"))]


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set (questions or conversations).

    Raises:
        ConfigError: A line is not valid JSON or lacks a required field, with its line number.
    """
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw["turns"] if "turns" in raw else [raw["question"]]
            items.append(Question(
                id=str(raw["id"]), lang=raw.get("lang", ""), turns=list(turns), answers=list(raw.get("answers", [])),
                evidence=list(raw.get("evidence", [])), answerable=bool(raw.get("answerable", True)),
                all_answers=bool(raw.get("all_answers", False)),
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ConfigError(
                f"{path}:{number}: not a question record ({error}); each line needs "
                '{"id", "lang", "question" or "turns", "answers", "evidence", "answerable"}.'
            ) from None
    return items


# -- scoring (pure) -------------------------------------------------------------------------------

def normalize_answer(text: str) -> str:
    """Fold Arabic spelling, diacritics and Eastern digits; lower-case; squeeze spaces."""
    return " ".join(normalize_arabic(text).split())


def contains_answer(answer: str, accepted: str) -> bool:
    """True when the normalised answer contains the accepted string.

    Numbers match whole: "80" is not found inside "800" or "1980".
    """
    target = normalize_answer(accepted)
    if not target:
        return False
    haystack = normalize_answer(answer)
    pattern = re.escape(target)
    if target[0].isdigit():
        pattern = r"(?<!\d)" + pattern
    if target[-1].isdigit():
        pattern += r"(?!\d)"
    return re.search(pattern, haystack) is not None


def is_correct(question: Question, answer: Answer) -> bool:
    """Answerable: grounded and containing an accepted string (all of them for ``all_answers``).
    Unanswerable: refused."""
    if not question.answerable:
        return not answer.grounded
    if not answer.grounded or not question.answers:
        return False
    found = [contains_answer(answer.text, accepted) for accepted in question.answers]
    return all(found) if question.all_answers else any(found)


def evidence_cited(question: Question, answer: Answer) -> bool:
    """True when a cited passage contains one of the evidence strings."""
    wanted = [normalize_answer(e) for e in question.evidence]
    return any(w and w in normalize_answer(c.text) for c in answer.citations for w in wanted)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of the values, 0 when there are none."""
    return float(np.percentile(values, q)) if values else 0.0


def summarize(records: list[Record]) -> dict[str, Any]:
    """Metrics over records: accuracy per language, citation evidence rate, refusals, latency."""
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]

    def rate(items: Iterable[Record], test: Callable[[Record], bool]) -> float | None:
        items = list(items)
        return round(sum(1 for r in items if test(r)) / len(items), 4) if items else None

    summary: dict[str, Any] = {"questions": len(records), "answerable": len(answerable),
                               "unanswerable": len(unanswerable)}
    for lang in sorted({r.lang for r in answerable}):
        summary[f"accuracy_{lang}"] = rate((r for r in answerable if r.lang == lang), lambda r: r.correct)
    summary["accuracy"] = rate(answerable, lambda r: r.correct)
    summary["citation_evidence_rate"] = rate((r for r in answerable if r.grounded), lambda r: r.evidence_cited)
    summary["refusal_accuracy"] = rate(unanswerable, lambda r: not r.grounded)
    summary["false_refusal_rate"] = rate(answerable, lambda r: not r.grounded)
    latencies = [r.latency_ms for r in records]
    summary["latency_ms_p50"] = round(percentile(latencies, 50), 1)
    summary["latency_ms_p95"] = round(percentile(latencies, 95), 1)
    return summary


def calibrate_threshold(records: list[Record]) -> tuple[float, dict[str, float]]:
    """The refusal threshold on ``support`` that best separates answerable from unanswerable.

    Records must come from a run that refused nothing (threshold -inf). The objective is
    refusal accuracy minus twice the false-refusal rate: refusing a question the corpus answers
    costs a reader more than quoting an unhelpful passage. Ties go to the lower threshold.
    """
    answerable = sorted(r.support for r in records if r.answerable)
    unanswerable = sorted(r.support for r in records if not r.answerable)
    if not answerable or not unanswerable:
        return 0.0, {}
    best = (-np.inf, 0.0)
    for t in sorted(set(answerable + unanswerable)):
        refused_ok = sum(1 for s in unanswerable if s < t) / len(unanswerable)
        false_refusal = sum(1 for s in answerable if s < t) / len(answerable)
        objective = refused_ok - 2 * false_refusal
        if objective > best[0] + 1e-9:
            best = (objective, t)
    threshold = best[1]
    return threshold, {
        "refusal_accuracy": sum(1 for s in unanswerable if s < threshold) / len(unanswerable),
        "false_refusal_rate": sum(1 for s in answerable if s < threshold) / len(answerable),
    }


# -- running (I/O through the functions passed in) -------------------------------------------------

def run_questions(questions: list[Question], ask: Callable[[str], Answer],
                  new_chat: Callable[[], Any], progress: bool = True) -> list[Record]:
    """Ask every question (conversations through a fresh chat) and score the answers."""
    from tqdm.auto import tqdm

    records = []
    for item in tqdm(questions, desc="Evaluating", unit="q", disable=not progress, delay=1.0):
        if len(item.turns) > 1:
            chat = new_chat()
            for turn in item.turns[:-1]:
                chat.ask(turn)
            started = time.perf_counter()
            answer = chat.ask(item.question)
        else:
            started = time.perf_counter()
            answer = ask(item.question)
        latency = (time.perf_counter() - started) * 1000
        records.append(Record(
            id=item.id, lang=item.lang, question=item.question, answer=answer.text, grounded=answer.grounded,
            answerable=item.answerable, correct=is_correct(item, answer), evidence_cited=evidence_cited(item, answer),
            citations=[c.to_dict() for c in answer.citations], retrieved=list(answer.retrieved),
            latency_ms=round(latency, 2), support=answer.support, turns=list(item.turns),
        ))
    return records


def write_report(records: list[Record], summary: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``records.jsonl`` and ``summary.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records_path = out_dir / "records.jsonl"
    with records_path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return records_path, summary_path
