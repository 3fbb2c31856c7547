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

from ...config import ReaderAnswerSettings
from ...ingest.chunking import chunk_sentences
from ...retrieve.retriever import QueryVectors
from ...text.glossary import WordGlosses
from ...text.normalize import Span, detect_language, normalize_arabic, numbers_in, tokenize
from ...types import Answer, AnswerSpan, Chunk, Hit
from ...verify.answers import same_source
from ...verify.short_answers import ShortAnswerCheck, check_short_answer, stated_as_written, whole_word_bounds
from ..analysis import Candidate, asked_source, pin_short_answer, speaker_of, word_overlap
from ..extractive import Analysis, ExtractiveAnswerer, citation_of, closest, refusal
from ..selective import SelectiveModel
from .cross_language import ReaderAids, short_answer
from .model import Reading
from .spans import SpanCandidate


class SpanReader(Protocol):
    """What answering needs of a reader (:class:`.model.Reader`, or a fake in tests)."""

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        ...


@dataclass(frozen=True)
class _Choice:
    """The short answer chosen: the reader's span (whole words), its checks, its rank among the reader's
    spans, how many spans failed the checks before it, the share of the question's words its
    sentence and neighbours hold, and the share of its own words the question already has."""

    span: SpanCandidate
    check: ShortAnswerCheck
    rank: int
    failed: int
    coverage: float
    span_in_question: float


class ReaderAnswerer:
    """Short answers from a trained reader over the extractive answerer's ranking."""

    def __init__(self, reader: SpanReader, extractive: ExtractiveAnswerer, templates: dict[str, dict[str, str]],
                 settings: ReaderAnswerSettings, glosses: Callable[[], ReaderAids | WordGlosses | None] = lambda: None,
                 previous: Callable[[Hit], Chunk | None] = lambda hit: None,
                 selective: SelectiveModel | None = None) -> None:
        self.reader = reader
        self.selective = selective
        self._previous = previous
        self.extractive = extractive
        self._templates = templates
        self.settings = settings
        self._glosses = glosses

    def answer(self, question: str, language: str, query: QueryVectors, hits: list[Hit],
               display_question: str | None = None, top_k: int | None = None) -> Answer:
        """Like :meth:`ExtractiveAnswerer.answer`, with the reader's span, short answer and refusal.

        The short answer must pass :func:`check_short_answer` (whole words, the kind asked for, every
        name the question asks about stated, the asked source's figure); the reader's next span that
        passes takes its place when it fails. With a selective-answering model, a short answer less
        likely right than its threshold is withheld: the closest passage is quoted, labelled so.
        """
        a = self.extractive.analyse(question, language, query, hits, display_question, top_k)
        if a.refused:
            return replace(refusal(language, self._templates, a.shown), support=a.support, retrieved=a.retrieved)
        top_k = min(top_k or len(hits), len(hits))
        across = bool(a.ranked) and detect_language(a.ranked[0].span.text) != language
        if self.settings.sentences:
            count = self.settings.sentences_across if across else self.settings.sentences
            read, offsets = sentence_windows(a.ranked, count, self.settings.neighbours)
        else:
            read = hits[: min(top_k, self.settings.passages)]
            offsets = [(0, len(h.text)) for h in read]
        reading = shift(self.reader.read(question, [h.text[a:b] for h, (a, b) in zip(read, offsets, strict=True)]),
                        [a for a, _ in offsets])
        margin = round(reading.margin, 3) if reading.spans else None
        evidence = self.settings.evidence(reading.margin, a.support) if reading.spans else float("-inf")
        if evidence < self.settings.min_evidence(across):
            return replace(refusal(language, self._templates, a.shown), support=a.support, retrieved=a.retrieved,
                           reader_margin=margin)
        wording = self._templates.get(language, self._templates["en"])
        asked = asked_source(question) or asked_source(a.shown)
        conflict = [(c, value, speaker or carried_speaker(c, self._previous)) for c, value, speaker in a.conflict]
        if conflict and asked:  # "according to Amaq": that source's figure alone
            mine = [claim for claim in conflict if claim[2] and same_source(asked, claim[2])]
            conflict = mine if len(mine) == 1 else conflict
        # Each claimed value is held to the same checks as a short answer; when none passes, the reader
        # reads on: the sentence picker's claims are the values it saw, and the one asked for may be
        # elsewhere ("وأشارت أنها … 80 سجيناً" reports the SDF's figure without naming it).
        conflict = [claim for claim in conflict if not self._claim_problems(a, claim, asked)]
        if len(conflict) > 1:
            answer = self._conflict(a.shown, language, conflict, wording)
            return replace(answer, support=a.support, retrieved=a.retrieved, reader_margin=margin,
                           signals={"conflict": 1.0})
        if conflict:
            answer = self._claim(a.shown, language, a.kind, conflict[0], wording)
            return replace(answer, support=a.support, retrieved=a.retrieved, reader_margin=margin,
                           signals={"conflict": 1.0, "source": 1.0})
        choice, problems = self._choose(reading, read, a, asked, across)
        signals = self._signals(a, reading, choice, across)
        if choice is None:
            return replace(closest(a, language, self._templates), reader_margin=margin, signals=signals,
                           checks=problems)
        best, check = choice.span, choice.check
        confidence = round(self.selective.probability(signals), 4) if self.selective is not None else None
        if self.selective is not None and not self.selective.shows(signals, language):
            return replace(closest(a, language, self._templates), reader_margin=margin, signals=signals,
                           confidence=confidence, checks=["the short answer is not likely enough to be right"])
        answer = self._single(a.shown, language, a.kind, best, read, wording)
        return replace(answer, support=a.support, retrieved=a.retrieved, reader_margin=margin, signals=signals,
                       confidence=confidence, checks=check.problems)

    def _choose(self, reading: Reading, read: list[Hit], a: Analysis, asked: str,
                across: bool = False) -> tuple[_Choice | None, list[str]]:
        """The first of the reader's spans (the count's pinned one first) that passes the short-answer
        checks, widened to whole words; else ``None`` and what the last one failed."""
        if not reading.spans:
            return None, ["the reader found no span"]
        problems: list[str] = []
        best = preferred_span(reading, [h.text for h in read], a.kind, a.short, self.settings.pin_window)
        best = pinned_in_sentence(best, read[best.passage], a.kind, a.short)
        if a.kind == "number":  # the count the question names, in the sentence the reader chose
            hit = read[best.passage]
            own = pin_short_answer(a.kind, sentence_around(hit, source_span(hit, best)).text, tokenize(a.shown),
                                   across, self.extractive.glossary)
            best = pinned_in_sentence(best, hit, a.kind, own)
        ordered = [best] + [s for s in reading.spans if s != best]
        top = reading.spans[0].score
        failed = 0
        for rank, span in enumerate(ordered[: self.settings.span_candidates]):
            if rank and top - span.score > self.settings.span_window:
                break
            hit = read[span.passage]
            if a.kind == "number":
                pinned = pin_short_answer(a.kind, sentence_around(hit, source_span(hit, span)).text,
                                          tokenize(a.shown), across, self.extractive.glossary)
                span = narrowed_count(span, hit, pinned)
            start, end = whole_word_bounds(hit.text, span.start, span.end)
            span = replace(span, start=start, end=end)
            sentence = sentence_around(hit, source_span(hit, span))
            window = sentence_window(hit, sentence, self.settings.neighbours)
            speaker = speaker_of(sentence.text) or (carried_speaker(
                Candidate(0, hit, sentence, 0.0, 0.0, 0.0), self._previous) if asked else "")
            check = check_short_answer(a.shown, a.kind, hit.text, start, end, window, asked, speaker, self._stated)
            if check.passed:
                coverage = word_overlap(tokenize(a.shown), window, self.extractive.glossary)
                repeated = word_overlap(tokenize(hit.text[start:end]), a.shown, self.extractive.glossary)
                return _Choice(span, check, rank, failed, coverage, repeated), problems
            failed += 1
            problems = check.problems
        return None, problems

    def _claim_problems(self, a: Analysis, claim: tuple[Candidate, str, str], asked: str) -> list[str]:
        """What the short-answer checks find in one claimed value of a disagreement."""
        candidate, value, speaker = claim
        hit, sentence = candidate.hit, candidate.span
        where = _value_offsets(sentence.text, value)
        offset = sentence.start - hit.start
        start, end = (offset + where[0], offset + where[1]) if where else (offset, offset + len(sentence.text))
        start, end = whole_word_bounds(hit.text, start, end)  # "وسبعة": the value's word, conjunction and all
        window = sentence_window(hit, sentence, self.settings.neighbours)
        return check_short_answer(a.shown, a.kind, hit.text, start, end, window, asked, speaker, self._stated).problems

    def _stated(self, word: str, text: str) -> bool:
        """Whether ``text`` states a word of the question: as a word of it (light stemming), or across
        languages through one of the glossary's translations; ``True`` when no translation is known."""
        tokens = tokenize(word)
        if not tokens:
            return True
        if stated_as_written(word, text):
            return True
        if detect_language(word) == detect_language(text):
            return False
        glossary = self.extractive.glossary
        if glossary is None or not any(glossary.lookup(t) for t in tokens):
            return True
        return word_overlap(tokens, text, glossary) > 0

    def _signals(self, a: Analysis, reading: Reading, choice: _Choice | None, across: bool) -> dict[str, float]:
        """What selective answering weighs (see :data:`..selective.SIGNALS`)."""
        margin = max(-20.0, min(20.0, reading.margin)) if reading.spans else -20.0
        second = reading.spans[1].score if len(reading.spans) > 1 else reading.null
        signals = {"support": a.support, "margin": margin, "across": float(across),
                   "support_across": a.support * float(across), "margin_across": margin * float(across),
                   "second_gap": max(0.0, min(20.0, reading.spans[0].score - second)) if reading.spans else 0.0,
                   **{f"asks_{kind}": float(a.kind == kind) for kind in ("number", "day", "date", "who", "where")}}
        if choice is None:
            return {**signals, "failed": float(self.settings.span_candidates)}
        signals.update({
            "rank": float(choice.rank), "failed": float(choice.failed),
            "gap": max(0.0, min(20.0, reading.spans[0].score - choice.span.score)),
            "span_chars": min(200.0, float(choice.span.end - choice.span.start)) / 100.0,
            "source": 1.0 if choice.check.source_fits else 0.0,
            "coverage": choice.coverage,
            "span_in_question": choice.span_in_question,
        })
        return signals

    def _claim(self, shown: str, language: str, kind: str, claim: tuple[Candidate, str, str],
               wording: dict[str, str]) -> Answer:
        """The asked source's value, when the sources disagree and the question names one of them."""
        candidate, value, _speaker = claim
        where = _value_offsets(candidate.span.text, value)
        start, end = (candidate.span.start + where[0], candidate.span.start + where[1]) if where else (
            candidate.span.start, candidate.span.end)
        span = AnswerSpan(candidate.span.text[start - candidate.span.start:end - candidate.span.start],
                          candidate.hit.source, start, end)
        short = self.for_reader(span.text, language, kind)
        citation = replace(citation_of(1, candidate.hit, candidate.span, candidate.score), span_start=start,
                           span_end=end)
        text = wording["with_short"].format(short=short, quote=candidate.span.text, n=1)
        return Answer(text=text, grounded=True, language=language, citations=[citation], question=shown,
                      short=short, span=span)

    def _single(self, shown: str, language: str, kind: str, best: SpanCandidate, read: list[Hit],
                wording: dict[str, str]) -> Answer:
        hit = read[best.passage]
        span = source_span(hit, best)
        sentence = sentence_around(hit, span)
        short = self.for_reader(span.text, language, kind)
        citation = replace(citation_of(1, hit, sentence, best.score), span_start=span.start, span_end=span.end)
        text = wording["with_short"].format(short=short, quote=sentence.text, n=1)
        return Answer(text=text, grounded=True, language=language, citations=[citation], question=shown,
                      short=short, span=span)

    def _conflict(self, shown: str, language: str, conflict: list[tuple[Candidate, str, str]],
                  wording: dict[str, str]) -> Answer:
        """Each competing value with who gives it; the reader is not asked to pick one of them."""
        claims, citations, values = [], [], []
        for n, (candidate, value, speaker) in enumerate(conflict, start=1):
            citation = citation_of(n, candidate.hit, candidate.span, candidate.score)
            where = _value_offsets(candidate.span.text, value)
            if where is not None:
                citation = replace(citation, span_start=candidate.span.start + where[0],
                                   span_end=candidate.span.start + where[1])
            citations.append(citation)
            shown_speaker = self.for_reader(speaker, language, "who") if speaker else ""
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

    def for_reader(self, span: str, language: str, kind: str) -> str:
        """The short answer as shown to a reader of ``language`` (:func:`.render.short_answer`)."""
        return short_answer(span, language, kind, self._glosses())


# "وأشارت أنها ..." / "وأضاف أن ...": a sentence that reports without naming who speaks.
_PRONOUN_REPORT = re.compile(r"^\W*(?:و|ف)?(?:اشار|اشارت|اضاف|اضافت|اكد|اكدت|قال|قالت|بين|بينت|اوضح|اوضحت|تابع|تابعت)"
                             r"\s+(?:ان|انه|انها|الي|ب)")
# "وكانت قسد قد أعلنت ..." : the speaker named before its verb, as Arabic news often writes.
_SUBJECT_FIRST = re.compile(r"(?:^|\s)(?:و|ف)?(?:كانت|كان)\s+([^\s،,.]+)\s+(?:قد\s+)?"
                            r"(?:اعلنت|اعلن|قالت|قال|ذكرت|ذكر|اكدت|اكد|اشارت|اشار)")


def sentence_windows(ranked: Sequence[Candidate], count: int, neighbours: int
                     ) -> tuple[list[Hit], list[tuple[int, int]]]:
    """Windows around the ``count`` best distinct sentences: the passage of each, and the window's
    ``(start, end)`` in it (the sentence and ``neighbours`` sentences either side). Pure."""
    read, offsets, seen = [], [], set()
    for candidate in ranked:
        key = (candidate.hit.chunk_id, candidate.span.start)
        if key in seen:
            continue
        seen.add(key)
        sentences = chunk_sentences(candidate.hit)
        index = next((i for i, s in enumerate(sentences) if s.start == candidate.span.start), None)
        if index is None:
            continue
        first, last = sentences[max(0, index - neighbours)], sentences[min(len(sentences) - 1, index + neighbours)]
        read.append(candidate.hit)
        offsets.append((first.start - candidate.hit.start, last.end - candidate.hit.start))
        if len(read) == count:
            break
    return read, offsets


def shift(reading: Reading, starts: Sequence[int]) -> Reading:
    """A reading of windows with its spans' offsets moved into their passages (window ``i`` starts at ``starts[i]``)."""
    spans = tuple(replace(s, start=s.start + starts[s.passage], end=s.end + starts[s.passage]) for s in reading.spans)
    return replace(reading, spans=spans)


def preferred_span(reading: Reading, passages: Sequence[str], kind: str, pinned: str,
                   window: float) -> SpanCandidate:
    """The reader's best span; for a count, the best span within ``window`` logits of it that gives the
    pinned number, narrowed to that number when the span gives others too ("84 … وسبعة" -> "سبعة"). Pure."""
    best = reading.spans[0]
    if kind != "number" or not pinned:
        return best
    close = [s for s in reading.spans if best.score - s.score <= window]

    def numbers(span: SpanCandidate) -> set[str]:
        return set(numbers_in(passages[span.passage][span.start:span.end]))

    exact = next((s for s in close if numbers(s) == {pinned}), None)
    if exact is not None:
        return exact
    for span in close:
        if pinned in numbers(span):
            where = _value_offsets(passages[span.passage][span.start:span.end], pinned)
            if where is not None:
                return replace(span, start=span.start + where[0], end=span.start + where[1])
    return best


#: A count's short answer longer than this many words is cut to its one number.
_COUNT_WORDS = 4


def narrowed_count(span: SpanCandidate, hit: Hit, pinned: str = "") -> SpanCandidate:
    """A count's span cut to its number: of many words that give one number, that number ("أكثر الفارين
    من السجن، الذين يقدر عددهم بحدود 80 سجيناً" -> "80"); of several numbers, the one ``pinned`` (the
    number whose counted noun the question names: "إحراق نحو 25 آلية … والاستيلاء على 4 آليات" -> "25"
    for the vehicles burnt); otherwise the span. Pure."""
    text = hit.text[span.start:span.end]
    values = numbers_in(normalize_arabic(text))
    if len(set(values)) > 1 and pinned in values:
        values = [pinned]
    elif len(text.split()) <= _COUNT_WORDS or len(set(values)) != 1:
        return span
    where = _value_offsets(text, values[0])
    return span if where is None else replace(span, start=span.start + where[0], end=span.start + where[1])


def pinned_in_sentence(span: SpanCandidate, hit: Hit, kind: str, pinned: str) -> SpanCandidate:
    """For a count whose pinned number the span lacks, that number where the span's own sentence gives
    it ("How many civilians were killed?": the reader points at the casualty sentence's 136, the rule
    at its "سبعة مدنيين"); otherwise the span. Pure."""
    text = hit.text[span.start:span.end]
    if kind != "number" or not pinned or pinned in numbers_in(text):
        return span
    sentence = sentence_around(hit, source_span(hit, span))
    where = _value_offsets(sentence.text, pinned)
    if where is None:
        return span
    offset = sentence.start - hit.start
    return replace(span, start=offset + where[0], end=offset + where[1])


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


def _value_offsets(sentence: str, value: str) -> tuple[int, int] | None:
    """Where a claimed number is written in its sentence (digits, or its Arabic number word)."""
    position = 0
    for word in sentence.split():
        found = sentence.find(word, position)
        position = found + len(word)
        bare = word.strip("،,.؛:()\"«»")
        if numbers_in(normalize_arabic(bare)) == [value]:
            begin = sentence.find(bare, found)
            if bare[:1] in "وفب" and numbers_in(normalize_arabic(bare[1:])) == [value]:
                begin += 1  # a conjunction or preposition written onto the number word: "وسبعة"
            return begin, sentence.find(bare, found) + len(bare)
    return None


def sentence_window(hit: Hit, sentence: Span, neighbours: int) -> str:
    """The sentence with ``neighbours`` sentences of its passage either side: where a question's names
    may be stated when the sentence itself refers to them ("وأشارت أنها ...")."""
    sentences = chunk_sentences(hit)
    inside = [i for i, s in enumerate(sentences) if s.start < sentence.end and s.end > sentence.start]
    if not inside:
        return sentence.text
    first, last = max(0, inside[0] - neighbours), min(len(sentences) - 1, inside[-1] + neighbours)
    return hit.text[sentences[first].start - hit.start: sentences[last].end - hit.start]
