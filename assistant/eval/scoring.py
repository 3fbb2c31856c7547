"""Question sets -> per-question records -> metrics. Scoring is pure over plain data.

Two kinds of record come out of a run: *answer* records, from asking the full pipeline (answer,
citations, the chunks it retrieved), and *retrieval* records, from a system that only ranks
passages (the baselines of ``assistant eval --compare``). Both carry the ranked retrieved chunk
ids mapped to gold, so retrieval metrics are computed the same way for every system.

Gold passages: for a SQuAD-style set, the paragraph each question was asked about (every chunk
of it counts, once); for our own set, any chunk that contains one of the question's evidence
strings.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..answer.prompts.loader import load_extractive
from ..errors import ConfigError
from ..text.normalize import detect_language, tokenize
from ..types import Answer, Hit
from . import metrics
from .metrics import contains_answer, normalize_answer, percentile

__all__ = [
    "Question", "Record", "SquadSet", "calibrate_threshold", "contains_answer", "default_question_files",
    "evidence_cited", "is_correct", "load_questions", "load_squad", "normalize_answer", "percentile", "read_records",
    "run_questions", "run_retrieval", "summarize", "summary_table", "write_records", "write_report",
]

#: Ranked chunks kept per question: enough for MRR@10 and nDCG@10.
DEPTH = 10


@dataclass(frozen=True)
class Question:
    """One item of a question set (a conversation when ``turns`` has more than one entry).

    ``gold_sources`` names the documents that are the gold passage (SQuAD paragraphs); when it is
    empty, chunks containing an ``evidence`` string are the gold passages.
    """

    id: str
    lang: str
    turns: list[str]
    answers: list[str]
    evidence: list[str]
    answerable: bool = True
    all_answers: bool = False
    gold_sources: list[str] = field(default_factory=list)
    #: Documents the question is answered without (a near-miss: its gold paragraph left out).
    exclude_sources: list[str] = field(default_factory=list)

    @property
    def question(self) -> str:
        """The last (scored) turn."""
        return self.turns[-1]


@dataclass
class Record:
    """What happened to one question, with one system.

    ``retrieved`` holds the ranked chunk ids; ``retrieved_units`` maps each to what gold is
    counted in (its paragraph for SQuAD, itself otherwise) and ``retrieved_gold`` says whether it
    is gold; ``gold_units`` lists every gold unit in the corpus. Retrieval-only records
    (``answered`` false) have no answer, citations or answer metrics.
    """

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
    system: str = "ours"
    answered: bool = True
    answer_language: str = ""
    f1: float | None = None
    citation_supported: list[bool] = field(default_factory=list)
    faithfulness: float | None = None
    retrieved_units: list[str] = field(default_factory=list)
    retrieved_gold: list[bool] = field(default_factory=list)
    gold_units: list[str] = field(default_factory=list)
    #: The reader's short answer and exact span (empty without a reader or when refusing).
    short: str = ""
    span: str = ""
    reader_margin: float | None = None
    #: Span EM and F1 against the accepted answers (answerable questions; 0 when refused).
    span_em: float | None = None
    span_f1: float | None = None
    #: An accepted answer appears in the first 80 characters of the reply (answerable, grounded).
    short_first_80: bool | None = None
    #: English questions: the short answer holds an accepted answer written in English.
    short_in_english: bool | None = None
    #: The best retrieved passage is in the other language than the question (None: unknown).
    across: bool | None = None
    #: How the answer was written (``llm`` or ``extractive``), and what was noted on the way:
    #: sentences verification dropped, why an LLM answer was not used (see ``llm_report``).
    mode: str = ""
    notes: list[str] = field(default_factory=list)


class Passage(Protocol):
    """What gold is judged on: a chunk or a hit."""

    chunk_id: str
    source: str
    text: str


# -- question sets --------------------------------------------------------------------------------

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
                all_answers=bool(raw.get("all_answers", False)), gold_sources=list(raw.get("gold_sources", [])),
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ConfigError(
                f"{path}:{number}: not a question record ({error}); each line needs "
                '{"id", "lang", "question" or "turns", "answers", "evidence", "answerable"}.'
            ) from None
    return items


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD-format set: the paragraphs to index (file name -> text) and the questions on them."""

    paragraphs: dict[str, str]
    questions: list[Question]


def _read_squad(path: Path) -> list[tuple[int, int, str, list[dict[str, Any]]]]:
    """``(article, paragraph, context, qas)`` for every paragraph of a SQuAD file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        found = [(a, p, str(paragraph["context"]), list(paragraph["qas"]))
                 for a, article in enumerate(data["data"]) for p, paragraph in enumerate(article["paragraphs"])]
        for *_, qas in found:
            for qa in qas:
                if not isinstance(qa, dict) or "id" not in qa or "question" not in qa:
                    raise KeyError("id/question")
        return found
    except OSError as error:
        raise ConfigError(f"Cannot read the SQuAD file {path}: {error.strerror or error}.") from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"{path} is not SQuAD-format JSON ({type(error).__name__}: {error}); it needs "
            '{"data": [{"paragraphs": [{"context": ..., "qas": [{"id", "question", "answers"}]}]}]}.'
        ) from None


def load_squad(contexts: Path, questions_from: Sequence[Path] = (), limit: int | None = None) -> SquadSet:
    """Read SQuAD-format JSON: its paragraphs, and questions from it or from parallel files.

    Each paragraph becomes a document named ``p{article:03d}-{paragraph:02d}.txt``; the gold
    passage of a question is its own paragraph (and any paragraph with the very same text).

    Args:
        contexts: The SQuAD file whose paragraphs are indexed.
        questions_from: Files with the same question ids in another language (XQuAD's are
            parallel); their questions are asked against ``contexts``. Default: ``contexts`` itself.
        limit: Only the first ``limit`` questions of each file.

    Returns:
        The paragraphs and the questions. Accepted answers are the gold spans of both files;
        the evidence is the gold spans in the indexed language. SQuAD 2.0 ``is_impossible``
        questions are unanswerable.

    Raises:
        ConfigError: A file is unreadable or not SQuAD, or a question id is not in ``contexts``.
    """
    paragraphs: dict[str, str] = {}
    gold_of: dict[str, str] = {}
    spans_of: dict[str, list[str]] = {}
    for a, p, context, qas in _read_squad(contexts):
        name = f"p{a:03d}-{p:02d}.txt"
        paragraphs[name] = context
        for qa in qas:
            gold_of[str(qa["id"])] = name
            spans_of[str(qa["id"])] = [x["text"] for x in qa.get("answers", [])]
    same_text: dict[str, list[str]] = {}
    for name, text in paragraphs.items():
        same_text.setdefault(text, []).append(name)

    questions: list[Question] = []
    for path in questions_from or [contexts]:
        items = [(str(qa["id"]), qa) for *_, qas in _read_squad(path) for qa in qas]
        if limit is not None:
            items = items[:limit]
        languages = Counter(detect_language(qa["question"]) for _, qa in items)
        lang = languages.most_common(1)[0][0] if languages else ""
        for qid, qa in items:
            if qid not in gold_of:
                raise ConfigError(
                    f"Question id {qid!r} of {path} is not in {contexts}; --questions-from must be a "
                    "translation of the same SQuAD set (the XQuAD files share their ids)."
                )
            evidence = spans_of[qid]
            accepted = list(dict.fromkeys(evidence + [x["text"] for x in qa.get("answers", [])]))
            answerable = not qa.get("is_impossible", False) and bool(accepted)
            questions.append(Question(
                id=f"{lang}-{qid}", lang=lang, turns=[qa["question"]], answers=accepted, evidence=evidence,
                answerable=answerable, gold_sources=same_text[paragraphs[gold_of[qid]]] if answerable else [],
            ))
    return SquadSet(paragraphs, questions)


# -- scoring (pure) -------------------------------------------------------------------------------

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
    return any(metrics.citation_support([c.text for c in answer.citations], question.evidence))


def supporting_spans(question: Question) -> list[str]:
    """What a citation must contain to support the answer: the evidence, else the accepted answers."""
    return question.evidence or question.answers


def unit_of(question: Question, passage: Passage) -> str:
    """What a retrieved chunk counts as: its source for paragraph-level gold, else itself."""
    return passage.source if question.gold_sources else passage.chunk_id


def is_gold(question: Question, passage: Passage) -> bool:
    """Whether a chunk is (part of) the question's gold passage."""
    if question.gold_sources:
        return passage.source in question.gold_sources
    return any(metrics.contains_normalized(passage.text, e) for e in question.evidence)


def near_misses(questions: Sequence[Question]) -> list[Question]:
    """Each answerable SQuAD question again, without its gold paragraph: on topic (its article's other
    paragraphs are still indexed) and, unless another paragraph repeats the fact, unanswerable. The
    case a similarity threshold cannot tell from an answerable question; used to calibrate refusal."""
    return [replace(q, id=q.id + "-near-miss", answers=[], evidence=[], answerable=False, gold_sources=[],
                    exclude_sources=list(q.gold_sources)) for q in questions if q.answerable and q.gold_sources]


def gold_units(question: Question, corpus: Iterable[Passage]) -> list[str]:
    """Every gold unit of the corpus (empty for an unanswerable question)."""
    if not question.answerable:
        return []
    if question.gold_sources:
        return list(question.gold_sources)
    return metrics.unique_in_order(unit_of(question, p) for p in corpus if is_gold(question, p))


def reply_language(answer: Answer) -> str:
    """The language of the answer's own wording: quotes and citation marks set aside.

    Quotes are never translated, so an English question about an Arabic passage gets English
    wording around an Arabic quote. Wording without letters (a bare number) takes the answer's
    declared language.
    """
    outside, depth = [], 0
    for ch in metrics.strip_citation_marks(answer.text):
        if ch == "«":
            depth += 1
        elif ch == "»":
            depth = max(0, depth - 1)
        elif depth == 0:
            outside.append(ch)
    wording = "".join(outside)
    return detect_language(wording) if any(ch.isalpha() for ch in wording) else answer.language


def span_scores(question: Question, answer: Answer) -> tuple[float | None, float | None]:
    """SQuAD EM and F1 (MLQA normalisation, Arabic included) of ``answer.span`` against the accepted
    answers; a refusal scores 0, an unanswerable question ``None``. Without a span (the sentence
    picker) what the reply offers as its answer is scored: its short answer, else its first quote."""
    if not question.answerable or not question.answers:
        return None, None
    text = ""
    if answer.grounded:
        text = answer.span.text if answer.span is not None else (
            answer.short or (answer.citations[0].quote if answer.citations else ""))
    lang = detect_language(text) if text else question.lang
    return (metrics.best_over_truths("em", text, question.answers, lang),
            metrics.best_over_truths("f1", text, question.answers, lang))


def short_first_80(question: Question, answer: Answer) -> bool | None:
    """Whether an accepted answer is in the reply's first 80 characters (the short answer leads)."""
    if not question.answerable or not question.answers:
        return None
    head = answer.text[:80] if answer.grounded else ""
    return any(metrics.contains_answer(head, accepted) for accepted in question.answers)


def short_in_english(question: Question, answer: Answer) -> bool | None:
    """English questions: whether the short answer holds an accepted answer written in Latin letters or digits."""
    if question.lang != "en" or not question.answerable:
        return None
    from ..answer.reader.render import has_arabic

    english = [a for a in question.answers if not has_arabic(a)]
    return bool(answer.short) and any(metrics.contains_answer(answer.short, a) for a in english)


def answer_f1(question: Question, answer: Answer) -> float | None:
    """MLQA token F1 of the answer text against the best accepted answer (``None`` if unanswerable)."""
    if not question.answerable or not question.answers:
        return None
    text = metrics.strip_citation_marks(answer.text) if answer.grounded else ""
    return max(metrics.token_f1(text, truth, detect_language(truth)) for truth in question.answers)


@functools.lru_cache(maxsize=1)
def wording_tokens() -> frozenset[str]:
    """Search tokens of the fixed answer wording ("the document says"), which make no claim."""
    templates = load_extractive()
    return frozenset(t for language in templates.values() for text in language.values() for t in tokenize(
        text.replace("{", " ").replace("}", " ")))


def score_answer(question: Question, answer: Answer, latency_ms: float, system: str = "ours",
                 corpus: Mapping[str, Passage] | None = None, gold: list[str] | None = None) -> Record:
    """One question's answer record, scored. Pure.

    Args:
        question: The question.
        answer: What the system answered.
        latency_ms: How long the (last) turn took.
        system: The system's name.
        corpus: Chunk id -> chunk, to map ``answer.retrieved`` to gold; without it no retrieval
            fields are filled.
        gold: The question's gold units (:func:`gold_units`), computed once by the caller.
    """
    supported = metrics.citation_support([c.text for c in answer.citations], supporting_spans(question)) \
        if question.answerable else []
    faithful = metrics.faithfulness(answer.text, [c.text for c in answer.citations], wording_tokens()) \
        if answer.grounded else None
    passages = [corpus[i] for i in answer.retrieved if i in corpus] if corpus is not None else []
    span_em, span_f1 = span_scores(question, answer)
    return Record(
        id=question.id, lang=question.lang, question=question.question, answer=answer.text,
        grounded=answer.grounded, answerable=question.answerable, correct=is_correct(question, answer),
        evidence_cited=evidence_cited(question, answer), citations=[c.to_dict() for c in answer.citations],
        retrieved=list(answer.retrieved), latency_ms=round(latency_ms, 2), support=answer.support,
        turns=list(question.turns), system=system, answered=True, answer_language=reply_language(answer),
        f1=answer_f1(question, answer), citation_supported=supported, faithfulness=faithful,
        retrieved_units=[unit_of(question, p) for p in passages],
        retrieved_gold=[is_gold(question, p) for p in passages],
        gold_units=list(gold or []),
        short=answer.short, span=answer.span.text if answer.span is not None else "",
        reader_margin=answer.reader_margin, span_em=span_em, span_f1=span_f1,
        short_first_80=short_first_80(question, answer), short_in_english=short_in_english(question, answer),
        across=detect_language(passages[0].text) != question.lang if passages else None,
        mode=answer.mode, notes=list(answer.notes),
    )


def score_retrieval(question: Question, hits: Sequence[Passage], latency_ms: float, system: str,
                    gold: list[str]) -> Record:
    """A retrieval-only record: the ranked chunks mapped to gold, no answer. Pure."""
    return Record(
        id=question.id, lang=question.lang, question=question.question, answer="", grounded=False,
        answerable=question.answerable, correct=False, evidence_cited=False, citations=[],
        retrieved=[h.chunk_id for h in hits], latency_ms=round(latency_ms, 2), turns=list(question.turns),
        system=system, answered=False, retrieved_units=[unit_of(question, h) for h in hits],
        retrieved_gold=[is_gold(question, h) for h in hits], gold_units=list(gold),
    )


def _rate(items: Iterable[Record], test: Callable[[Record], bool]) -> float | None:
    items = list(items)
    return round(sum(1 for r in items if test(r)) / len(items), 4) if items else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def retrieval_summary(records: Sequence[Record], max_k: int = DEPTH) -> dict[str, Any]:
    """hit@1, hit@5, MRR@10, nDCG@10 and the hit@k curve over records that have gold passages."""
    scored = [r for r in records if r.gold_units]
    if not scored:
        return {}
    per_question = [metrics.retrieval_scores(r.retrieved_units, set(r.gold_units), (1, 5), DEPTH) for r in scored]
    summary: dict[str, Any] = {"retrieval_questions": len(scored)}
    for key in per_question[0]:
        summary[key] = round(sum(s[key] for s in per_question) / len(per_question), 4)
    summary["hit_curve"] = [round(v, 4) for v in metrics.hit_curve(
        [r.retrieved_units for r in scored], [set(r.gold_units) for r in scored], max_k)]
    return summary


def summarize(records: list[Record]) -> dict[str, Any]:
    """Metrics over records: answers, citations, refusals, language, retrieval and latency.

    Answer metrics (accuracy, F1, citations, refusals, faithfulness) come from answer records;
    retrieval metrics from any record with gold passages, overall and per language
    (``hit@1_ar``...). A metric with nothing to measure is ``None``.
    """
    answered = [r for r in records if r.answered]
    answerable = [r for r in answered if r.answerable]
    unanswerable = [r for r in answered if not r.answerable]
    summary: dict[str, Any] = {"questions": len(records),
                               "answerable": sum(1 for r in records if r.answerable),
                               "unanswerable": sum(1 for r in records if not r.answerable)}
    languages = sorted({r.lang for r in records if r.lang})
    if answered:
        for lang in sorted({r.lang for r in answerable}):
            summary[f"accuracy_{lang}"] = _rate((r for r in answerable if r.lang == lang), lambda r: r.correct)
        summary["accuracy"] = _rate(answerable, lambda r: r.correct)
        summary["f1"] = _round(metrics.mean(r.f1 for r in answerable))
        for lang in sorted({r.lang for r in answerable}):
            summary[f"f1_{lang}"] = _round(metrics.mean(r.f1 for r in answerable if r.lang == lang))
        grounded = [r for r in answerable if r.grounded]
        summary["citation_evidence_rate"] = _rate(grounded, lambda r: r.evidence_cited)
        summary["citation_precision"] = _round(metrics.mean(
            metrics.citation_precision(r.citation_supported) for r in grounded))
        summary["citation_recall"] = _round(metrics.mean(
            metrics.citation_recall(r.citation_supported) for r in grounded)) if grounded else None
        summary["refusal_accuracy"] = _rate(unanswerable, lambda r: not r.grounded)
        summary["false_refusal_rate"] = _rate(answerable, lambda r: not r.grounded)
        summary["language_match"] = _rate((r for r in answered if r.lang and r.answer_language),
                                          lambda r: r.answer_language == r.lang)
        summary["faithfulness"] = _round(metrics.mean(r.faithfulness for r in answered))
        for lang in ("", *sorted({r.lang for r in answerable})):
            subset = [r for r in answerable if not lang or r.lang == lang]
            suffix = f"_{lang}" if lang else ""
            summary["span_em" + suffix] = _round(metrics.mean(r.span_em for r in subset))
            summary["span_f1" + suffix] = _round(metrics.mean(r.span_f1 for r in subset))
        summary["short_first_80"] = _rate((r for r in answerable if r.short_first_80 is not None),
                                          lambda r: bool(r.short_first_80))
        summary["short_in_english"] = _rate((r for r in answerable if r.short_in_english is not None),
                                            lambda r: bool(r.short_in_english))
        for lang in sorted({r.lang for r in unanswerable}):
            summary[f"refusal_accuracy_{lang}"] = _rate((r for r in unanswerable if r.lang == lang),
                                                        lambda r: not r.grounded)
    retrieval = retrieval_summary(records)
    summary.update({k: v for k, v in retrieval.items() if k != "hit_curve"})
    if retrieval:
        curves = {"all": retrieval["hit_curve"]}
        for lang in languages:
            by_lang = retrieval_summary([r for r in records if r.lang == lang])
            for key in ("hit@1", "hit@5", "mrr@10", "ndcg@10"):
                if key in by_lang:
                    summary[f"{key}_{lang}"] = by_lang[key]
            if by_lang:
                curves[lang] = by_lang["hit_curve"]
        summary["hit_curve"] = curves
    latencies = [r.latency_ms for r in records]
    summary["latency_ms_p50"] = round(percentile(latencies, 50), 1)
    summary["latency_ms_p95"] = round(percentile(latencies, 95), 1)
    return summary


def calibrate_threshold(*record_sets: Sequence[Record], max_false_refusal: float = 0.05,
                        value: Callable[[Record], float | None] = lambda r: r.support,
                        ) -> tuple[float, dict[str, float]]:
    """The refusal threshold on ``support`` (or the score ``value`` picks: the reader's margin) that
    best separates answerable from unanswerable.

    Records must come from runs that refused nothing on support (threshold -inf); a question
    refused for another reason (a year asked, none given) counts as refused at every threshold.
    Several sets (the shipped one and XQuAD) are pooled: only thresholds that refuse at most
    ``max_false_refusal`` of each set's answerable questions qualify (the foundation issue's 5%),
    and among them the objective, on the pooled records, is refusal accuracy minus twice the
    false-refusal rate: refusing a question the corpus answers costs a reader more than quoting
    an unhelpful passage; ties go to the lower threshold. Records with no unanswerable question
    (XQuAD alone) give the highest qualifying threshold: the ceiling they put on it. Pure.

    Returns:
        The threshold and, on the pooled records, its refusal accuracy (when there are unanswerable
        questions) and false-refusal rate; ``(0.0, {})`` without answerable questions.
    """
    sets = [[r for r in records if r.answered] for records in record_sets]
    pooled = [r for records in sets for r in records]
    answerable = [r for r in pooled if r.answerable]
    unanswerable = [r for r in pooled if not r.answerable]
    if not answerable:
        return 0.0, {}

    def score(r: Record) -> float:
        v = value(r)
        return float("-inf") if v is None else v

    def refused(records: Sequence[Record], t: float) -> float:
        return sum(1 for r in records if not r.grounded or score(r) < t) / len(records)

    capped = [[r for r in records if r.answerable] for records in sets]
    capped = [records for records in capped if records]
    best = (-np.inf, float("-inf"))
    for t in sorted({score(r) for r in pooled}):
        if any(refused(records, t) > max_false_refusal + 1e-9 for records in capped):
            break  # refusals only grow with the threshold
        objective = refused(unanswerable, t) - 2 * refused(answerable, t) if unanswerable else t
        if objective > best[0] + 1e-9:
            best = (objective, t)
    threshold = best[1]
    if threshold == float("-inf"):  # even the lowest threshold breaks the cap: refuse on support nothing
        threshold = min(score(r) for r in pooled)
    effect = {"false_refusal_rate": refused(answerable, threshold)}
    if unanswerable:
        effect["refusal_accuracy"] = refused(unanswerable, threshold)
    return threshold, effect


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


# -- running (I/O through the functions passed in) -------------------------------------------------

def run_questions(questions: list[Question], ask: Callable[[str, Sequence[str]], Answer],
                  new_chat: Callable[[], Any], progress: bool = True,
                  corpus: Sequence[Passage] | None = None, system: str = "ours") -> list[Record]:
    """Ask every question (conversations through a fresh chat) and score the answers.

    Args:
        questions: The question set.
        ask: Answers one question without the documents named in its second argument; ask for
            :data:`DEPTH` passages so MRR@10 and nDCG@10 see ten.
        new_chat: A fresh conversation, with an ``ask(question) -> Answer`` method.
        progress: Show a progress bar.
        corpus: Every chunk of the index; when given, the retrieved chunks are mapped to gold.
        system: The name recorded on each record.
    """
    from tqdm.auto import tqdm

    by_id = {p.chunk_id: p for p in corpus} if corpus is not None else None
    records = []
    for item in tqdm(questions, desc=f"Asking ({system})", unit="q", disable=not progress, delay=1.0):
        if len(item.turns) > 1:
            chat = new_chat()
            for turn in item.turns[:-1]:
                chat.ask(turn)
            started = time.perf_counter()
            answer = chat.ask(item.question)
        else:
            started = time.perf_counter()
            answer = ask(item.question, item.exclude_sources)
        latency = (time.perf_counter() - started) * 1000
        gold = gold_units(item, corpus) if corpus is not None else []
        records.append(score_answer(item, answer, latency, system, by_id, gold))
    return records


def run_retrieval(questions: list[Question], search: Callable[[str, int], Sequence[Hit]],
                  corpus: Sequence[Passage], system: str, progress: bool = True) -> list[Record]:
    """Rank passages for every question with a retrieval-only system, and map them to gold.

    Conversations are searched with their last turn as it stands: these systems do not resolve
    follow-ups.

    Args:
        questions: The question set.
        search: ``(question, k) -> hits``, best first.
        corpus: Every chunk the system indexed (to count the gold passages).
        system: The system's name.
        progress: Show a progress bar.
    """
    from tqdm.auto import tqdm

    records = []
    for item in tqdm(questions, desc=f"Searching ({system})", unit="q", disable=not progress, delay=1.0):
        started = time.perf_counter()
        hits = list(search(item.question, DEPTH))
        latency = (time.perf_counter() - started) * 1000
        records.append(score_retrieval(item, hits, latency, system, gold_units(item, corpus)))
    return records


# -- reports ---------------------------------------------------------------------------------------

_COLUMNS = (
    ("n", "questions"), ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("MRR@10", "mrr@10"), ("nDCG@10", "ndcg@10"),
    ("accuracy", "accuracy"), ("F1", "f1"), ("span EM", "span_em"), ("span F1", "span_f1"),
    ("short ≤80", "short_first_80"), ("short en", "short_in_english"),
    ("cite P", "citation_precision"), ("cite R", "citation_recall"),
    ("refusal acc", "refusal_accuracy"), ("false refusal", "false_refusal_rate"), ("lang match", "language_match"),
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


def write_report(records: list[Record], summary: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``records.jsonl`` and ``summary.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records_path = write_records(records, out_dir / "records.jsonl")
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return records_path, summary_path
