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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..answer.prompts.loader import load_extractive
from ..text.normalize import detect_language, tokenize
from ..types import Answer
from . import metrics
from .metrics import contains_answer, percentile
from .questions import DEPTH, Question


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
    #: What the reader saw: ``answer``, ``closest`` (the closest passage, no answer) or ``refusal``.
    outcome: str = ""
    #: Answerable questions answered: the short answer (or each claimed value) holds an accepted answer.
    short_right: bool | None = None
    #: The selective-answering probability, and the signals it was computed from.
    confidence: float | None = None
    signals: dict[str, float] = field(default_factory=dict)
    #: A turn of a conversation (after its first).
    conversation: bool = False


class Passage(Protocol):
    """What gold is judged on: a chunk or a hit."""

    chunk_id: str
    source: str
    text: str


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
    from ..answer.reader.cross_language import has_arabic

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
        mode=answer.mode, notes=list(answer.notes), outcome=answer.outcome,
        short_right=short_right(question, answer, span_f1), confidence=answer.confidence,
        signals=dict(answer.signals), conversation=question.conversation,
    )


def short_right(question: Question, answer: Answer, span_f1: float | None) -> bool | None:
    """For an answerable question answered: whether what leads the reply is right, the short answer
    (each value, when sources disagree) holding an accepted answer or its span scoring F1 ≥ 0.5
    against one; ``None`` when nothing was answered or the question has no answer."""
    if not question.answerable or answer.outcome != "answer" or not question.answers:
        return None
    lead = answer.short or (answer.span.text if answer.span is not None else "") or answer.text[:80]
    shown = [lead, answer.span.text if answer.span is not None else ""]
    if any(contains_answer(text, accepted) for text in shown if text for accepted in question.answers):
        return True
    return bool(span_f1 is not None and span_f1 >= 0.5)


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
        summary.update(reader_view(answered))
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


def reader_view(records: Sequence[Record]) -> dict[str, Any]:
    """What a reader sees, per language too: among answerable questions the short answer right, wrong,
    withheld (the closest passage quoted instead) or refused; wrong among the short answers shown;
    unanswerable questions given no answer; conversation turns answered correctly."""
    view: dict[str, Any] = {}
    for lang in ("", *sorted({r.lang for r in records if r.lang})):
        subset = [r for r in records if not lang or r.lang == lang]
        suffix = f"_{lang}" if lang else ""
        answerable = [r for r in subset if r.answerable]
        shown = [r for r in answerable if r.outcome == "answer"]
        view["short_right" + suffix] = _rate(answerable, lambda r: r.outcome == "answer" and bool(r.short_right))
        view["short_wrong" + suffix] = _rate(answerable, lambda r: r.outcome == "answer" and not r.short_right)
        view["withheld" + suffix] = _rate(answerable, lambda r: r.outcome == "closest")
        view["refused_answerable" + suffix] = _rate(answerable, lambda r: r.outcome == "refusal")
        view["wrong_among_shown" + suffix] = _rate(shown, lambda r: not r.short_right)
        view["unanswerable_refused" + suffix] = _rate((r for r in subset if not r.answerable),
                                                      lambda r: r.outcome != "answer")
        view["conversation_accuracy" + suffix] = _rate((r for r in subset if r.conversation), lambda r: r.correct)
    return view
