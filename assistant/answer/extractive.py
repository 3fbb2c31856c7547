"""Hits -> Answer with numbered citations. The default answerer is extractive: it quotes, never invents.

It scores every sentence of the best passages against the question (multilingual embedding
similarity, shared words, and whether the sentence holds the kind of thing asked for: a number,
a day, a name), quotes the best one verbatim, leads with the short answer where one can be pinned,
gives each claim with its source where sentences disagree, and refuses when the support is weak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..config import AnswerSettings
from ..models.embeddings import VectorCache
from ..retrieve.retriever import QueryVectors
from ..text.glossary import Glossary
from ..text.normalize import (
    Span,
    day_name,
    detect_language,
    tokenize,
)
from ..types import Answer, Citation, EmbedFn, Hit, SentenceVectorsFn
from ..verify.short_answers import check_short_answer
from .analysis import (
    STRICT_KINDS,
    Candidate,
    NumberClaim,
    _has_kind,
    candidate_sentences,
    number_claim,
    other_voice,
    pin_short_answer,
    question_kind,
    same_subject,
    score_candidates,
    speaker_of,
)

# -- composing ----------------------------------------------------------------------------------

@dataclass
class _Composer:
    templates: dict[str, str]
    citations: list[Citation] = field(default_factory=list)

    def cite(self, candidate: Candidate) -> int:
        number = len(self.citations) + 1
        self.citations.append(citation_of(number, candidate.hit, candidate.span, candidate.score))
        return number


def citation_of(number: int, hit: Hit, sentence: Span, score: float) -> Citation:
    """Citation ``number``: the passage ``hit``, quoting ``sentence`` (source offsets)."""
    return Citation.of(number, hit, round(score, 4), quote=sentence.text, quote_start=sentence.start,
                       quote_end=sentence.end)


def refusal(language: str, templates: dict[str, dict[str, str]], question: str = "") -> Answer:
    """The fixed not-found reply, in the question's language."""
    wording = templates.get(language, templates["en"])
    return Answer(text=wording["refusal"], grounded=False, language=language, citations=[], question=question)


def compose_answer(question: str, language: str, ranked: list[Candidate], kind: str, short: str,
                   conflict: list[tuple[Candidate, str, str]], templates: dict[str, dict[str, str]],
                   extra: Candidate | None = None) -> Answer:
    """Write the answer text and its citations from chosen sentences. Pure.

    Args:
        question: The question.
        language: ``ar`` or ``en``; the wording around quotes follows it.
        ranked: Scored sentences, best first (at least one).
        kind: What the question asks for (see :func:`question_kind`).
        short: The pinned short answer, or ``""``.
        conflict: Two or more ``(sentence, value, speaker)`` claims that disagree, or empty.
        templates: :func:`assistant.answer.prompts.loader.load_extractive` output.
        extra: A second sentence nearly as well supported as the best, quoted after it.
    """
    wording = templates.get(language, templates["en"])
    composer = _Composer(wording)
    if conflict:
        claims = []
        for candidate, _value, speaker in conflict:
            n = composer.cite(candidate)
            template = wording["claim_with_speaker"] if speaker else wording["claim"]
            claims.append(template.format(speaker=speaker, quote=candidate.span.text, n=n))
        text = wording["conflict"].format(claims="\n".join(claims))
    else:
        best = ranked[0]
        n = composer.cite(best)
        if short:
            text = wording["with_short"].format(short=short, quote=best.span.text, n=n)
        else:
            text = wording["quote_only"].format(quote=best.span.text, n=n)
        if extra is not None:
            text += "\n" + wording["extra_quote"].format(quote=extra.span.text, n=composer.cite(extra))
    return Answer(text=text, grounded=True, language=language, citations=composer.citations, question=question,
                  short=short if not conflict else "")


def find_conflict(kind: str, ranked: list[Candidate], margin: float, window_margin: float,
                  claim: Callable[[str], NumberClaim | None]) -> list[tuple[Candidate, str, str]]:
    """Sentences near the top that give different values for the same count. Pure given ``claim``.

    A second sentence is a competing claim when it scores within ``margin`` of the best sentence,
    its number fits the question within ``window_margin`` of the best one's, both numbers count
    the same thing (:func:`same_subject`), and another voice gives it (:func:`other_voice`): 80
    escaped prisoners (SDF) against 800 (Amaq) is the case the reader must see side by side, not
    80 escaped against 25 burnt vehicles, nor two figures one encyclopedic text gives for two
    different things (on XQuAD-ar, 16 of 2,380 answers said "the sources disagree" over such pairs).
    """
    if kind != "number" or not ranked:
        return []
    best = ranked[0]
    first = claim(best.span.text)
    if first is None:
        return []
    claims = [(best, first.value, speaker_of(best.span.text))]
    for other in ranked[1:6]:
        if best.score - other.score > margin:
            continue
        if other.span.start == best.span.start and other.hit.source == best.hit.source:
            continue
        found = claim(other.span.text)
        speaker = speaker_of(other.span.text)
        if (found is not None and found.fit >= first.fit - window_margin and same_subject(first, found)
                and found.value not in {v for _, v, _ in claims}
                and all(other_voice(c.hit.source, s, other.hit.source, speaker) for c, _, s in claims)):
            claims.append((other, found.value, speaker))
    return claims if len(claims) > 1 else []


class ExtractiveAnswerer:
    """Quotes the best-supported sentence of the retrieved passages, or refuses."""

    def __init__(self, sentence_vectors: SentenceVectorsFn, embed_passages: EmbedFn,
                 templates: dict[str, dict[str, str]], settings: AnswerSettings, cache_size: int = 5_000,
                 glossary: Glossary | None = None) -> None:
        self._sentence_vectors = sentence_vectors
        self.glossary = glossary
        self._embed = embed_passages
        self._templates = templates
        self.settings = settings
        self.vectors = VectorCache(embed_passages, cache_size)
        """e5 passage vectors for short texts (number windows), cached."""

    def rank(self, question: str, query: QueryVectors, hits: list[Hit], passages: int | None = None) -> list[Candidate]:
        """Candidate sentences of the first ``passages`` hits (``settings.passages``), scored, best first."""
        return self._rank_prefixes(question, query, hits, [passages or self.settings.passages])[0]

    def _rank_prefixes(self, question: str, query: QueryVectors, hits: list[Hit],
                       counts: list[int]) -> list[list[Candidate]]:
        """:meth:`rank` for the first ``n`` hits, for each ``n`` of ``counts``; the sentence vectors
        are fetched once, for the most hits asked for."""
        sentences = candidate_sentences(hits, max(counts))
        if not sentences:
            return [[] for _ in counts]
        primary, second = self._sentence_vectors([s[3] for s in sentences], [s[2].text for s in sentences])
        ranked = []
        for count in counts:
            rows = sum(1 for rank, *_ in sentences if rank < count)  # sentences come in hit order
            ranked.append(score_candidates(question, query, sentences[:rows], primary[:rows],
                                           None if second is None else second[:rows], self.settings, self.glossary))
        return ranked

    def answer(self, question: str, language: str, query: QueryVectors, hits: list[Hit],
               display_question: str | None = None, top_k: int | None = None) -> Answer:
        """The extractive answer, or the refusal when support is below the language's threshold.

        ``question`` is what was searched for (a follow-up resolved against its conversation);
        ``display_question`` is what the user typed, recorded on the answer. ``top_k`` is how many
        of the hits were asked for (all when omitted): the quote comes from the first of them
        (``settings.passages`` at most); hits past ``top_k`` are read only for competing claims.
        """
        a = self.analyse(question, language, query, hits, display_question, top_k)
        if a.refused:
            return replace(refusal(language, self._templates, a.shown), support=a.support, retrieved=a.retrieved)
        problems = [] if a.conflict else picked_problems(a)
        if problems:  # the same checks as the reader's short answers: the closest passage, labelled so
            return replace(closest(a, language, self._templates), checks=problems)
        answer = compose_answer(a.shown, language, a.ranked, a.kind, a.short, a.conflict, self._templates, a.extra)
        return replace(answer, support=a.support, retrieved=a.retrieved)

    def analyse(self, question: str, language: str, query: QueryVectors, hits: list[Hit],
                display_question: str | None = None, top_k: int | None = None) -> Analysis:
        """What :meth:`answer` decides before it writes: ranked sentences, refusal, claims, short answer."""
        shown = display_question or question
        top_k = min(top_k or len(hits), len(hits))
        kind = question_kind(question)
        quoted = min(top_k, self.settings.passages)
        # Competing claims of a count are looked for in more passages than the quote comes from.
        wider = kind == "number" and len(hits) > quoted and self.settings.conflict_passages > quoted
        counts = [quoted, self.settings.conflict_passages] if wider else [quoted]
        prefixes = self._rank_prefixes(question, query, hits, counts)
        ranked, claimants = prefixes[0], prefixes[-1]
        retrieved = [hit.chunk_id for hit in hits[:top_k]]
        support = round(ranked[0].score, 4) if ranked else 0.0
        lacks_kind = kind in STRICT_KINDS and not any(_has_kind(kind, c.span.text) for c in ranked[:3])
        if not ranked or ranked[0].score < self.settings.min_support(language) or lacks_kind:
            return Analysis(shown, kind, ranked, [], "", None, support, retrieved, refused=True)

        def window_scores(windows: list[str]) -> list[float]:
            return [float(np.dot(query.primary, v)) for v in self.vectors(windows)]

        tokens = tokenize(question)
        across = language != detect_language(ranked[0].span.text)
        conflict = find_conflict(kind, claimants, self.settings.conflict_margin, self.settings.conflict_window_margin,
                                 lambda quote: number_claim(quote, tokens, window_scores, single_only=across))
        # A follow-up's own words name what it counts ("وكم منهم مدنيون؟"); its standalone rewrite
        # also carries the previous question's ("كم شخصاً قتل ..."), which would pin the total.
        short = ""
        if not conflict:
            quote = ranked[0].span.text
            short = pin_short_answer(kind, quote, tokenize(shown), across, self.glossary) if shown != question else ""
            short = day_name(short or pin_short_answer(kind, quote, tokens, across, self.glossary), language)
        extra = None
        if not conflict and len(ranked) > 1 and ranked[0].score - ranked[1].score <= self.settings.second_quote_margin:
            extra = ranked[1]
        return Analysis(shown, kind, ranked, conflict, short, extra, support, retrieved, refused=False)


def picked_problems(a: Analysis) -> list[str]:
    """What the short-answer checks find in the picked sentence and its pinned short answer (the names
    the question asks about, the kind of answer), as for a reader's span."""
    text = a.ranked[0].span.text
    at = text.find(a.short) if a.short else -1
    start, end, kind = (at, at + len(a.short), a.kind) if at >= 0 else (0, len(text), "other")
    return check_short_answer(a.shown, kind, text, start, end, text).problems


def closest(a: Analysis, language: str, templates: dict[str, dict[str, str]]) -> Answer:
    """No answer: the best-supported sentence quoted as the closest passage, labelled so."""
    wording = templates.get(language, templates["en"])
    best = a.ranked[0]
    return Answer(text=wording["closest"].format(quote=best.span.text, n=1), grounded=False, language=language,
                  citations=[citation_of(1, best.hit, best.span, best.score)], question=a.shown, outcome="closest",
                  support=a.support, retrieved=a.retrieved)


@dataclass(frozen=True)
class Analysis:
    """The extractive answerer's decisions for one question, before any text is written."""

    shown: str
    kind: str
    ranked: list[Candidate]
    conflict: list[tuple[Candidate, str, str]]
    short: str
    extra: Candidate | None
    support: float
    retrieved: list[str]
    refused: bool
