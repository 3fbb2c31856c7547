"""Answers from the trained reader: the short answer first, its sentence quoted and cited, or a refusal.

The extractive answerer still ranks sentences and finds competing claims (its decisions are the
baseline that ``assistant eval --compare`` shows); the reader then picks the exact span across the
best passages and decides whether they answer the question at all. Pure given a :class:`Reader`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ..answer import Candidate, ExtractiveAnswerer, refusal, speaker_of
from ..chunking import chunk_sentences
from ..glossary import WordGlosses
from ..retrieval import QueryVectors
from ..text import Span, detect_language, normalize_arabic, numbers_in
from ..types import Answer, AnswerSpan, Chunk, Citation, Hit
from .model import Reading
from .render import render_for
from .spans import SpanCandidate


class SpanReader(Protocol):
    """What answering needs of a reader (:class:`.model.Reader`, or a fake in tests)."""

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        ...


@dataclass(frozen=True)
class ReaderAnswerSettings:
    """How reader answers are decided.

    Attributes:
        min_margin_ar: Refuse an Arabic question when the reader's best span beats its no-answer
            score by less than this (see :attr:`Reading.margin`); calibrated with
            ``assistant eval --calibrate-reader``.
        min_margin_en: The same for English questions.
        passages: How many of the best passages the reader reads.
    """

    min_margin_ar: float = 0.0
    min_margin_en: float = 0.0
    passages: int = 4

    def min_margin(self, language: str) -> float:
        return self.min_margin_ar if language == "ar" else self.min_margin_en


class ReaderAnswerer:
    """Short answers from a trained reader over the extractive answerer's ranking."""

    def __init__(self, reader: SpanReader, extractive: ExtractiveAnswerer, templates: dict[str, dict[str, str]],
                 settings: ReaderAnswerSettings, glosses: Callable[[], WordGlosses | None] = lambda: None,
                 previous: Callable[[Hit], Chunk | None] = lambda hit: None) -> None:
        self.reader = reader
        self._previous = previous
        self.extractive = extractive
        self._templates = templates
        self.settings = settings
        self._glosses = glosses

    def answer(self, question: str, language: str, query: QueryVectors, hits: list[Hit],
               display_question: str | None = None, top_k: int | None = None) -> Answer:
        """Like :meth:`ExtractiveAnswerer.answer`, with the reader's span, short answer and refusal."""
        a = self.extractive.analyse(question, language, query, hits, display_question, top_k)
        if a.refused:
            return replace(refusal(language, self._templates, a.shown), support=a.support, retrieved=a.retrieved)
        top_k = min(top_k or len(hits), len(hits))
        read = hits[: min(top_k, self.settings.passages)]
        reading = self.reader.read(question, [h.text for h in read])
        margin = round(reading.margin, 3) if reading.spans else None
        if not reading.spans or reading.margin < self.settings.min_margin(language):
            return replace(refusal(language, self._templates, a.shown), support=a.support, retrieved=a.retrieved,
                           reader_margin=margin)
        wording = self._templates.get(language, self._templates["en"])
        if a.conflict:
            conflict = [(c, value, speaker or carried_speaker(c, self._previous)) for c, value, speaker in a.conflict]
            answer = self._conflict(a.shown, language, conflict, wording)
        else:
            answer = self._single(a.shown, language, a.kind, reading, read, wording)
        return replace(answer, support=a.support, retrieved=a.retrieved, reader_margin=margin)

    def _single(self, shown: str, language: str, kind: str, reading: Reading, read: list[Hit],
                wording: dict[str, str]) -> Answer:
        best = reading.spans[0]
        hit = read[best.passage]
        span = source_span(hit, best)
        sentence = sentence_around(hit, span)
        short = self.render(span.text, language, kind)
        citation = replace(_citation(1, hit, sentence, best.score), span_start=span.start, span_end=span.end)
        text = wording["with_short"].format(short=short, quote=sentence.text, n=1)
        return Answer(text=text, grounded=True, language=language, citations=[citation], question=shown,
                      short=short, span=span)

    def _conflict(self, shown: str, language: str, conflict: list[tuple[Candidate, str, str]],
                  wording: dict[str, str]) -> Answer:
        """Each competing value with who gives it; the reader is not asked to pick one of them."""
        claims, citations, values = [], [], []
        for n, (candidate, value, speaker) in enumerate(conflict, start=1):
            citation = _citation(n, candidate.hit, candidate.span, candidate.score)
            where = _value_offsets(candidate.span.text, value)
            if where is not None:
                citation = replace(citation, span_start=candidate.span.start + where[0],
                                   span_end=candidate.span.start + where[1])
            citations.append(citation)
            shown_speaker = self.render(speaker, language, "who") if speaker else ""
            template = wording["value_claim_with_speaker"] if speaker else wording["value_claim"]
            claims.append(template.format(value=value, speaker=shown_speaker, quote=candidate.span.text, n=n))
            values.append(f"{value} ({shown_speaker})" if speaker else value)
        text = wording["conflict"].format(claims="\n".join(claims))
        first = conflict[0][0]
        where = _value_offsets(first.span.text, conflict[0][1])
        span = None
        if where is not None:
            start = first.span.start + where[0]
            span = AnswerSpan(first.span.text[where[0]:where[1]], first.hit.source, start,
                              start + where[1] - where[0])
        return Answer(text=text, grounded=True, language=language, citations=citations, question=shown,
                      short=" / ".join(values), span=span)

    def render(self, span: str, language: str, kind: str) -> str:
        """The short answer as shown to a reader of ``language``: the span, or its rendering beside it."""
        if detect_language(span) == language and not (language == "en" and _has_arabic(span)):
            return span
        glosses = self._glosses()
        return render_for(span, language, glosses, names=kind in ("who", "where")).shown(span)


# "وأشارت أنها ..." / "وأضاف أن ...": a sentence that reports without naming who speaks.
_PRONOUN_REPORT = re.compile(r"^\W*(?:و|ف)?(?:اشار|اشارت|اضاف|اضافت|اكد|اكدت|قال|قالت|بين|بينت|اوضح|اوضحت|تابع|تابعت)"
                             r"\s+(?:ان|انه|انها|الي|ب)")
# "وكانت قسد قد أعلنت ..." : the speaker named before its verb, as Arabic news often writes.
_SUBJECT_FIRST = re.compile(r"(?:^|\s)(?:و|ف)?(?:كانت|كان)\s+([^\s،,.]+)\s+(?:قد\s+)?"
                            r"(?:اعلنت|اعلن|قالت|قال|ذكرت|ذكر|اكدت|اكد|اشارت|اشار)")


def carried_speaker(candidate: Candidate, previous: Callable[[Hit], Chunk | None]) -> str:
    """Who speaks in a sentence that reports with a pronoun ("وأشارت أنها ..."): the speaker of the
    sentence before it, in its passage or in the passage before (``previous``, same document).

    Without this the SDF's 80 escapees came unattributed while Amaq's 800 named Amaq. Pure given
    ``previous``.
    """
    if not _PRONOUN_REPORT.search(normalize_arabic(candidate.span.text)):
        return ""
    hit = candidate.hit
    before = [s.text for s in chunk_sentences(hit) if s.end <= candidate.span.start]
    earlier = previous(hit) if not before else None
    if earlier is not None:
        before = [s.text for s in chunk_sentences(earlier)]
    if not before:
        return ""
    sentence = before[-1]
    named = speaker_of(sentence)
    if named:
        return named
    match = _SUBJECT_FIRST.search(normalize_arabic(sentence))
    if not match:
        return ""
    # Report the name as written: the word at the same position in the original sentence.
    position = len(normalize_arabic(sentence)[: match.start(1)].split())
    words = sentence.split()
    return words[position].strip("\"«»،,.") if position < len(words) else match.group(1)


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)


def source_span(hit: Hit, span: SpanCandidate) -> AnswerSpan:
    """A reader span (offsets into the passage) as source-document offsets."""
    return AnswerSpan(hit.text[span.start:span.end], hit.source, hit.start + span.start, hit.start + span.end)


def sentence_around(hit: Hit, span: AnswerSpan) -> Span:
    """The sentence of the passage that holds the span (the sentences it crosses, joined)."""
    sentences = chunk_sentences(hit)
    inside = [s for s in sentences if s.start < span.end and s.end > span.start]
    if not inside:
        return Span(span.start, span.end, span.text)
    start, end = inside[0].start, inside[-1].end
    return Span(start, end, hit.text[start - hit.start : end - hit.start])


def _citation(number: int, hit: Hit, sentence: Span, score: float) -> Citation:
    return Citation(number=number, chunk_id=hit.chunk_id, text=hit.text, source=hit.source, start=hit.start,
                    end=hit.end, score=round(score, 4), title=hit.title, paragraph=hit.paragraph,
                    quote=sentence.text, quote_start=sentence.start, quote_end=sentence.end)


def _value_offsets(sentence: str, value: str) -> tuple[int, int] | None:
    """Where a claimed number is written in its sentence (digits, or its Arabic number word)."""
    position = 0
    for word in sentence.split():
        found = sentence.find(word, position)
        position = found + len(word)
        bare = word.strip("،,.؛:()\"«»")
        if numbers_in(normalize_arabic(bare)) == [value]:
            begin = sentence.find(bare, found)
            return begin, begin + len(bare)
    return None
