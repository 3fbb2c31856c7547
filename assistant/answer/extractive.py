"""Hits -> Answer with numbered citations. The default answerer is extractive: it quotes, never invents.

It scores every sentence of the best passages against the question (multilingual embedding
similarity, shared words, and whether the sentence holds the kind of thing asked for: a number,
a day, a name), quotes the best one verbatim, leads with the short answer where one can be pinned,
gives each claim with its source where sentences disagree, and refuses when the support is weak.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..config import AnswerSettings
from ..index.embeddings import VectorCache
from ..ingest.chunking import chunk_sentences, sentence_id
from ..retrieve.retriever import QueryVectors
from ..text.glossary import Glossary
from ..text.normalize import (
    Span,
    day_name,
    detect_language,
    fold_suffix,
    normalize_arabic,
    numbers_in,
    tokenize,
    weekdays_in,
)
from ..types import Answer, Citation, EmbedFn, Hit, SentenceVectorsFn

# -- question analysis (pure) -------------------------------------------------------------------

_KINDS = (
    ("date", re.compile(r"\bسنه\b|\bعام\b|\bتاريخ\b|\bشهر\b|\bwhat year\b|\bwhich year\b|\bwhat date\b|"
                        r"\bon what date\b|\bwhich month\b|\bin what year\b")),
    ("number", re.compile(r"^\s*(?:و|ف)?كم\b|\bمنذ كم\b|\bعدد\b|\bحصيل|\bhow (?:many|much)\b|\bnumber of\b|"
                          r"\bcount\b|\btoll\b")),
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


_YEAR_OR_MONTH = re.compile(
    r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|\b(?:يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    r"كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين|january|february|march|april|may|june|july|"
    r"august|september|october|november|december)\b"
)
#: Kinds whose answer must be present for the reply to be grounded: a question asking for a year
#: or a date is not answered by a passage that gives only weekdays.
STRICT_KINDS = frozenset({"date"})


def _has_kind(kind: str, text: str) -> bool:
    if kind == "date":
        return bool(_YEAR_OR_MONTH.search(normalize_arabic(text)))
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


def candidate_sentences(hits: list[Hit], passages: int) -> list[tuple[int, Hit, Span, str]]:
    """Sentences of the top passages, with offsets into the source text and their vector ids."""
    found = []
    for rank, hit in enumerate(hits[:passages]):
        for index, span in enumerate(chunk_sentences(hit)):
            found.append((rank, hit, span, sentence_id(hit.chunk_id, index)))
    return found


def part_of_a_word(forms: frozenset[str] | set[str], words: set[str]) -> bool:
    """True when one of the glossary's Arabic forms (three letters or more) is part of one of the
    words: its translations are root-like forms Arabic derives words from ("قتل" in "مقتل"). Pure."""
    return any(form in word for form in forms if len(form) >= 3 for word in words)


def word_overlap(question_tokens: list[str], text: str, glossary: Glossary | None = None) -> float:
    """The share of the question's search tokens that the text contains, itself or, with a
    glossary, through one of its translations (an English question on an Arabic text, or back).

    A translation counts when it is part of a word of the text: the glossary gives a root-like
    form ("kill" -> "قتل") that Arabic derives words from ("مقتل 136 شخصاً"); light stemming does not
    undo the derivation, and PyStemmer's Arabic stemmer over-stems (see ``fold_suffix``). Only
    translations of three letters or more are matched this way.
    """
    if not question_tokens:
        return 0.0
    present = set(tokenize(text))
    folded = {fold_suffix(t) for t in present} if glossary is not None else set()

    def translated(token: str) -> bool:
        if glossary is None:
            return False
        if not token.isascii():  # an Arabic question on English text: English stems match whole
            return not present.isdisjoint(glossary.lookup(token))
        return part_of_a_word(glossary.lookup(token), folded)

    found = sum(1 for t in question_tokens if t in present or translated(t))
    return found / len(question_tokens)


def score_candidates(question: str, query: QueryVectors, sentences: list[tuple[int, Hit, Span, str]],
                     primary: np.ndarray, second: np.ndarray | None, settings: AnswerSettings,
                     glossary: Glossary | None = None) -> list[Candidate]:
    """Score sentences against the question; best first. Pure.

    The score adds the sentence's e5 similarity, its USE similarity (a second cross-lingual
    opinion), the share of the question's words it contains, whether it holds the kind of thing
    asked for, and its passage's retrieval rank.
    """
    tokens = tokenize(question)
    kind = question_kind(question)
    hit_scores = [hit.score for _, hit, _, _ in sentences]
    low, high = min(hit_scores), max(hit_scores)
    scored = []
    for row, (rank, hit, span, _) in enumerate(sentences):
        similarity = float(np.dot(query.primary, primary[row]))
        if second is not None and query.second is not None:
            similarity += settings.second_weight * float(np.dot(query.second, second[row]))
        overlap = word_overlap(tokens, span.text, glossary)
        prior = (hit.score - low) / (high - low) if high > low else 1.0
        score = (similarity + settings.lexical_weight * overlap
                 + settings.type_weight * _has_kind(kind, span.text) + settings.rank_weight * prior)
        scored.append(Candidate(rank, hit, span, similarity, overlap, score))
    scored.sort(key=lambda c: (-c.score, c.span.start))
    return scored


# -- short answers and attribution ---------------------------------------------------------------

#: Words any count shares with any question about a count: they do not tie a number to the question.
_COUNT_WORDS = frozenset({"عدد", "اجمالي", "مجموع", "حصيله"})


def pin_short_answer(kind: str, quote: str, question_tokens: list[str] | None = None, across: bool = False,
                     glossary: Glossary | None = None) -> str:
    """The number or day the quote gives, when the question asks for one and it can be pinned.

    A wrong short answer misleads more than none, so only an unambiguous value leads the answer:

    - a day: the quote's only weekday, unless it also gives a year or month ("when" in an
      encyclopedic text asks for a year);
    - a number: the only one whose counted noun shares a word with the question ("84 من تنظيم
      الدولة" for "كم عنصراً من تنظيم الدولة"); a lone number may share it with the few words
      before it instead ("عدد الفارين من السجن بلغ 800"). A number the question itself gives is
      not its answer.
      Across languages (``across``) the question's words are matched through their glossary
      translations, as parts of the quote's words; without a glossary nothing is pinned: an
      English question shares no word with an Arabic quote, and its only number was the wrong
      answer as often as the right one.

    These rules made the leading number right more often on the shipped set and on XQuAD-ar
    (before and after in docs/measurements.md).
    """
    if kind == "day":
        days = weekdays_in(quote)
        return days[0] if len(days) == 1 and not _YEAR_OR_MONTH.search(normalize_arabic(quote)) else ""
    if kind != "number" or not question_tokens or (across and glossary is None):
        return ""
    asked = set(numbers_in(" ".join(question_tokens)))
    content = [t for t in question_tokens if not t.isdigit()]
    if across and glossary is not None:
        wanted = {a for t in content for a in glossary.lookup(t)} - _COUNT_WORDS
    else:
        wanted = {fold_suffix(t) for t in content} - _COUNT_WORDS

    def counts_what_is_asked(window: str) -> bool:
        words = {fold_suffix(t) for t in tokenize(window) if not t.isdigit()}
        return part_of_a_word(wanted, words) if across else bool(wanted & words)

    mentions = [(value, window) for value, window in _number_mentions(quote, before=0, after=2) if value not in asked]
    if len({value for value, _ in mentions}) == 1:  # a lone number: its noun may come first
        mentions = [m for m in _number_mentions(quote, before=3, after=2) if m[0] not in asked]
    matching = list(OrderedDict.fromkeys(value for value, window in mentions if counts_what_is_asked(window)))
    return matching[0] if len(matching) == 1 else ""


@dataclass(frozen=True)
class NumberClaim:
    """A number a sentence gives, the words around it, and how well they match the question."""

    value: str
    context: str
    fit: float


def number_claim(quote: str, question_tokens: list[str],
                 window_scores: Callable[[list[str]], list[float]], single_only: bool = False) -> NumberClaim | None:
    """The number in the quote whose context best matches the question.

    The fit adds the e5 similarity of the words around the number to the question and the share
    of the question's words among them. With ``single_only`` a quote giving several numbers has no
    claim: across languages the windows cannot be told apart (on the article's multi-number
    sentences the best window led the next by 0.000-0.025 for English questions, 0.026-0.048 for
    Arabic ones), and "How many civilians were killed?" would set 84 fighters against 13.
    """
    mentions = _number_mentions(quote, before=8, after=3)
    if not mentions or (single_only and len({value for value, _ in mentions}) > 1):
        return None
    scores = [s + 0.1 * word_overlap(question_tokens, w) for s, (_, w) in
              zip(window_scores([w for _, w in mentions]), mentions, strict=True)]
    best = int(np.argmax(scores))
    return NumberClaim(mentions[best][0], mentions[best][1], float(scores[best]))


#: Counted nouns that make a number a duration (normalised spelling).
_TIME_UNITS = frozenset({
    "يوم", "يوما", "يومين", "ايام", "ساعه", "ساعات", "ساعتين", "اسبوع", "اسبوعين", "اسابيع", "شهر", "شهرين",
    "اشهر", "شهور", "سنه", "سنتين", "سنوات", "عام", "عامين", "اعوام", "دقيقه", "دقائق", "day", "days", "hour",
    "hours", "week", "weeks", "month", "months", "year", "years", "minute", "minutes",
})


def _is_duration(claim: NumberClaim) -> bool:
    words = normalize_arabic(claim.context).split()
    for i, word in enumerate(words[:-1]):
        if numbers_in(word) == [claim.value]:
            return words[i + 1] in _TIME_UNITS
    return False


def same_subject(a: NumberClaim, b: NumberClaim, min_shared: int = 2) -> bool:
    """True when two numbers count the same thing: their contexts share content words
    ("الفارين من السجن ... 80" and "الفارين من السجن بلغ 800"), not merely a verb ("مقتل 136" and
    "مقتل 13", a total and a part), and neither is a duration where the other is a count ("منذ
    ثلاثة أيام على السجن" and "الفارين من السجن بلغ 800")."""
    shared = {t for t in set(tokenize(a.context)) & set(tokenize(b.context)) if not t.isdigit()}
    return len(shared) >= min_shared and _is_duration(a) == _is_duration(b)


def other_voice(source_a: str, speaker_a: str, source_b: str, speaker_b: str) -> bool:
    """True when two sentences speak for different parties: different documents, or different
    speakers of one document where at least one is named ("وأكدت أعماق أن ..." against the SDF's
    "وأشارت أنها ..."). Two unattributed sentences of one text are the same voice."""
    return source_a != source_b or speaker_a != speaker_b


_NUMBER_OR_WORD = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def _number_mentions(quote: str, before: int = 1, after: int = 3) -> list[tuple[str, str]]:
    """Each number in the quote with the words around it."""
    folded = normalize_arabic(quote)
    words = _NUMBER_OR_WORD.findall(folded)
    mentions = []
    for i, word in enumerate(words):
        found = numbers_in(word)
        if found and not word.startswith(("عشرات", "مئات", "الاف")):
            # In Arabic the counted noun follows the number: "45 من الأسايش", "سبعة مدنيين".
            mentions.append((found[0], " ".join(words[max(0, i - before):i + after + 1])))
    return mentions


_ATTRIBUTION = re.compile(
    r"(?:قال|قالت|اكد|اكدت|اشار|اشارت|اعلن|اعلنت|ذكر|ذكرت|اضاف|اضافت|بحسب|وفق|حسب|نقلت)"
    r"\s+((?:[\u0621-\u064a\"«»]+\s*){1,2})"
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
