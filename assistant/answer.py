"""Hits -> Answer with numbered citations. The default answerer is extractive: it quotes, never invents.

It scores every sentence of the best passages against the question (multilingual embedding
similarity, shared words, and whether the sentence holds the kind of thing asked for: a number,
a day, a name), quotes the best one verbatim, leads with the short answer where one can be pinned,
gives each claim with its source where sentences disagree, and refuses when the support is weak.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .text import Span, normalize_arabic, numbers_in, split_sentences, tokenize, weekdays_in
from .types import Answer, Citation, Hit

EmbedFn = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class AnswerSettings:
    """Knobs of the extractive answerer. The ``min_support_*`` are calibrated on the question set."""

    min_support_ar: float = 0.0
    min_support_en: float = 0.0
    passages: int = 4
    lexical_weight: float = 0.15
    type_weight: float = 0.03
    rank_weight: float = 0.02
    conflict_margin: float = 0.05

    def min_support(self, language: str) -> float:
        """The refusal threshold for questions in this language."""
        return self.min_support_ar if language == "ar" else self.min_support_en


# -- question analysis (pure) -------------------------------------------------------------------

_KINDS = (
    ("number", re.compile(r"^\s*(?:و|ف)?كم\b|\bعدد\b|\bحصيل|\bhow (?:many|much)\b|\bnumber of\b|\bcount\b|\btoll\b")),
    ("day", re.compile(r"\bمتي\b|\bاي يوم\b|\bفي اي يوم\b|\bيوم\b|\bwhen\b|\bwhat day\b|\bwhich day\b|\bday\b")),
    ("who", re.compile(r"^\s*(?:و|ف)?من\s+(?:هو|هي|هم|الذي|التي|الذين|يقود|قاد)\b|^\s*(?:و|ف)?من\b(?!\s+(?:اين|اي))|"
                       r"\bما اسم\b|\bwho\b|\bwhose\b|\bwhom\b|\bname of\b|\bwhat is the name\b")),
    ("where", re.compile(r"\bاين\b|\bwhere\b|\bwhich (?:city|town|area|neighbou?rhood)\b")),
)


def question_kind(question: str) -> str:
    """``number``, ``day``, ``who``, ``where`` or ``other`` — what the short answer should be."""
    folded = normalize_arabic(question)
    for kind, pattern in _KINDS:
        if pattern.search(folded):
            return kind
    return "other"


def _has_kind(kind: str, text: str) -> bool:
    if kind == "number":
        return bool(numbers_in(text))
    if kind == "day":
        return bool(weekdays_in(text))
    return False


# -- candidates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, in source offsets, with its support score."""

    hit_rank: int
    hit: Hit
    span: Span
    similarity: float
    overlap: float
    score: float


def candidate_sentences(hits: list[Hit], passages: int) -> list[tuple[int, Hit, Span]]:
    """Sentences of the top passages, with offsets into the source text."""
    found = []
    for rank, hit in enumerate(hits[:passages]):
        for span in split_sentences(hit.text):
            found.append((rank, hit, Span(hit.start + span.start, hit.start + span.end, span.text)))
    return found


def word_overlap(question_tokens: list[str], text: str) -> float:
    """The share of the question's search tokens that the text contains."""
    if not question_tokens:
        return 0.0
    present = set(tokenize(text))
    return sum(1 for t in question_tokens if t in present) / len(question_tokens)


def score_candidates(question: str, query_vector: np.ndarray, sentences: list[tuple[int, Hit, Span]],
                     sentence_vectors: np.ndarray, settings: AnswerSettings) -> list[Candidate]:
    """Score sentences against the question; best first. Pure."""
    tokens = tokenize(question)
    kind = question_kind(question)
    scored = []
    for (rank, hit, span), vector in zip(sentences, sentence_vectors):
        similarity = float(np.dot(query_vector, vector))
        overlap = word_overlap(tokens, span.text)
        score = (similarity + settings.lexical_weight * overlap
                 + settings.type_weight * _has_kind(kind, span.text) + settings.rank_weight * hit.score)
        scored.append(Candidate(rank, hit, span, similarity, overlap, score))
    scored.sort(key=lambda c: (-c.score, c.span.start))
    return scored


# -- short answers and attribution ---------------------------------------------------------------

def pin_short_answer(kind: str, quote: str, window_scores: Callable[[list[str]], list[float]] | None) -> str:
    """The number or day the quote gives, when the question asks for one and it can be pinned.

    With several numbers in the quote, the one whose surrounding words best match the question wins
    (``window_scores`` scores the text around each); without a scorer, only a lone number is pinned.
    """
    if kind == "number":
        values = _number_mentions(quote)
    elif kind == "day":
        values = [(day, quote) for day in weekdays_in(quote)]
    else:
        return ""
    distinct = list(OrderedDict.fromkeys(v for v, _ in values))
    if len(distinct) == 1:
        return distinct[0]
    if not distinct or window_scores is None:
        return ""
    scores = window_scores([w for _, w in values])
    return values[int(np.argmax(scores))][0]


_NUMBER_OR_WORD = re.compile(r"\d+(?:[.,]\d+)?|[\u0621-\u064a]+")


def _number_mentions(quote: str) -> list[tuple[str, str]]:
    """Each number in the quote with the words around it (one before, three after)."""
    folded = normalize_arabic(quote)
    words = _NUMBER_OR_WORD.findall(folded)
    mentions = []
    for i, word in enumerate(words):
        found = numbers_in(word)
        if found and not word.startswith(("عشرات", "مئات", "الاف")):
            # In Arabic the counted noun follows the number: "45 من الأسايش", "سبعة مدنيين".
            mentions.append((found[0], " ".join(words[max(0, i - 1):i + 4])))
    return mentions


_ATTRIBUTION = re.compile(
    r"(?:قال|قالت|اكد|اكدت|اشار|اشارت|اعلن|اعلنت|ذكر|ذكرت|نشر|نشرت|اضاف|اضافت|بحسب|وفق|حسب|نقلت)"
    r"\s+((?:[\u0621-\u064a\"«»]+\s*){1,3})"
)
_PRONOUNS = ("ان", "انه", "انها", "انهم", "فيه", "فيها", "الي", "لـ", "مصادر")


def speaker_of(sentence: str) -> str:
    """Who a sentence attributes its claim to ("وأكدت أعماق أن ..." -> أعماق), or ``""``."""
    match = _ATTRIBUTION.search(normalize_arabic(sentence))
    if not match:
        return ""
    words = [w.strip("\"«»") for w in match.group(1).split()]
    words = [w for w in words if w]
    if not words or words[0] in _PRONOUNS or words[0].startswith(("ان", "لوكال")):
        return ""
    kept = []
    for word in words:
        if word in ("ان", "انه", "انها", "امس", "الاحد", "الاثنين", "السبت", "الخميس"):
            break
        kept.append(word)
    original = _original_words(sentence, len(kept), match.start(1))
    return original or " ".join(kept)


def _original_words(sentence: str, count: int, folded_offset: int) -> str:
    # Normalisation strips diacritics, so folded offsets drift; re-find the words in the original.
    words = sentence.split()
    folded_words = normalize_arabic(sentence).split()
    position = len(normalize_arabic(sentence)[:folded_offset].split())
    if position + count > len(words) or len(words) != len(folded_words):
        return ""
    return " ".join(w.strip("\"«»،,.") for w in words[position:position + count])


# -- composing ----------------------------------------------------------------------------------

@dataclass
class _Composer:
    templates: dict[str, str]
    citations: list[Citation] = field(default_factory=list)

    def cite(self, candidate: Candidate) -> int:
        number = len(self.citations) + 1
        hit = candidate.hit
        self.citations.append(Citation(
            number=number, chunk_id=hit.chunk_id, text=hit.text, source=hit.source, start=hit.start,
            end=hit.end, score=round(candidate.score, 4), title=hit.title, paragraph=hit.paragraph,
            quote=candidate.span.text, quote_start=candidate.span.start, quote_end=candidate.span.end,
        ))
        return number


def refusal(language: str, templates: dict[str, dict[str, str]], question: str = "") -> Answer:
    """The fixed not-found reply, in the question's language."""
    wording = templates.get(language, templates["en"])
    return Answer(text=wording["refusal"], grounded=False, language=language, citations=[], question=question)


def compose_answer(question: str, language: str, ranked: list[Candidate], kind: str, short: str,
                   conflict: list[tuple[Candidate, str, str]], templates: dict[str, dict[str, str]]) -> Answer:
    """Write the answer text and its citations from chosen sentences. Pure.

    Args:
        question: The question.
        language: ``ar`` or ``en``; the wording around quotes follows it.
        ranked: Scored sentences, best first (at least one).
        kind: What the question asks for (see :func:`question_kind`).
        short: The pinned short answer, or ``""``.
        conflict: Two or more ``(sentence, value, speaker)`` claims that disagree, or empty.
        templates: :func:`assistant.prompts.load_extractive` output.
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
    return Answer(text=text, grounded=True, language=language, citations=composer.citations, question=question)


def find_conflict(kind: str, ranked: list[Candidate], margin: float,
                  pin: Callable[[str], str]) -> list[tuple[Candidate, str, str]]:
    """Sentences near the top that give different values for the asked number. Pure given ``pin``.

    Only numbers are compared: two sources giving 80 and 800 escaped prisoners is the case the
    reader must see side by side.
    """
    if kind != "number" or not ranked:
        return []
    best = ranked[0]
    best_value = pin(best.span.text)
    if not best_value:
        return []
    claims = [(best, best_value, speaker_of(best.span.text))]
    for other in ranked[1:6]:
        if best.score - other.score > margin or other.overlap < best.overlap * 0.5:
            continue
        if other.span.start == best.span.start and other.hit.source == best.hit.source:
            continue
        value = pin(other.span.text)
        if value and value not in {v for _, v, _ in claims}:
            claims.append((other, value, speaker_of(other.span.text)))
    return claims if len(claims) > 1 else []


class ExtractiveAnswerer:
    """Quotes the best-supported sentence; caches sentence vectors (passages repeat across questions)."""

    def __init__(self, embed_passages: EmbedFn, templates: dict[str, dict[str, str]],
                 settings: AnswerSettings, cache_size: int = 20_000) -> None:
        self._embed = embed_passages
        self._templates = templates
        self.settings = settings
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Passage vectors for texts, from the cache where possible."""
        missing = list(OrderedDict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._embed(missing)):
                self._cache[text] = vector
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def rank(self, question: str, query_vector: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        """Candidate sentences of the hits, scored, best first."""
        sentences = candidate_sentences(hits, self.settings.passages)
        if not sentences:
            return []
        vectors = self.vectors([span.text for _, _, span in sentences])
        return score_candidates(question, query_vector, sentences, vectors, self.settings)

    def answer(self, question: str, language: str, query_vector: np.ndarray, hits: list[Hit],
               display_question: str | None = None) -> Answer:
        """The extractive answer, or the refusal when support is below ``min_support``.

        ``question`` is what was searched for (a follow-up resolved against its conversation);
        ``display_question`` is what the user typed, recorded on the answer.
        """
        shown = display_question or question
        ranked = self.rank(question, query_vector, hits)
        retrieved = [hit.chunk_id for hit in hits]
        support = round(ranked[0].score, 4) if ranked else 0.0
        if not ranked or ranked[0].score < self.settings.min_support(language):
            return replace(refusal(language, self._templates, shown), support=support, retrieved=retrieved)
        kind = question_kind(question)

        def window_scores(windows: list[str]) -> list[float]:
            return [float(np.dot(query_vector, v)) for v in self.vectors(windows)]

        def pin(quote: str) -> str:
            return pin_short_answer(kind, quote, window_scores)

        conflict = find_conflict(kind, ranked, self.settings.conflict_margin, pin)
        short = "" if conflict else pin(ranked[0].span.text)
        answer = compose_answer(shown, language, ranked, kind, short, conflict, self._templates)
        return replace(answer, support=support, retrieved=retrieved)
