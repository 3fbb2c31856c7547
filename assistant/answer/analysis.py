"""What the extractive answerer reads in a question and its passages, pure: the kind of answer asked
for, the candidate sentences and their scores, the short answer a count or day pins, the numbers a
sentence claims and who says so."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import AnswerSettings
from ..ingest.chunking import chunk_sentences, sentence_id
from ..retrieve.retriever import QueryVectors
from ..text.glossary import Glossary
from ..text.lexicon import TIME_UNITS
from ..text.normalize import (
    Span,
    fold_suffix,
    normalize_arabic,
    numbers_in,
    tokenize,
    weekdays_in,
)
from ..types import Hit

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




def _is_duration(claim: NumberClaim) -> bool:
    words = normalize_arabic(claim.context).split()
    for i, word in enumerate(words[:-1]):
        if numbers_in(word) == [claim.value]:
            return words[i + 1] in TIME_UNITS
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


#: "according to X" in a question: X is the source whose figure it asks for.
_ASKED_AR = re.compile(
    r"(?<!\S)[وف]?(?:بحسب|حسب|وفق|وفقا|طبقا)\s+(?:ما\s+(?:اعلنته|اعلنه|قالته|قاله|ذكرته|ذكره|اكدته|اكده|اوردته|اورده)\s+)?"
    r"((?:[\u0621-\u064a\"«»]+\s*){1,3})"
)
_ASKED_EN = re.compile(r"\b(?i:according to)\s+(?:(?i:the)\s+)?((?:[A-Z][\w'’-]*\s*){1,4})")
# "How many escapees did Amaq claim?", "What did the SDF announce?": the source as the subject of a
# reporting verb.
_ASKED_EN_SUBJECT = re.compile(r"\b(?i:did|does|do)\s+(?:(?i:the)\s+)?((?:[A-Z][\w'’-]*\s*){1,4}?)\s*"
                               r"(?i:claim|say|report|announce|state)\b")
# "ما عدد الفارين الذي أعلنته وكالة أعماق؟", "كم قتيلاً ذكرت قسد؟": the source after a reporting verb.
_ASKED_AR_SUBJECT = re.compile(
    r"(?<!\S)(?:الذي|التي|كما|ما)?\s*(?:اعلنته|اعلنه|قالته|قاله|ذكرته|ذكره|اوردته|اورده|ادعته|ادعاه|اعلنت|ذكرت|"
    r"قالت|زعمت|ادعت|اوردت)\s+((?:[\u0621-\u064a\"«»]+\s*){1,3})"
)


def asked_source(question: str) -> str:
    """The source a question asks for the figure of ("… بحسب ما أعلنته قسد؟" -> قسد, "according
    to the SDF" -> SDF), or ``""``."""
    english = _ASKED_EN.search(question) or _ASKED_EN_SUBJECT.search(question)
    if english:
        return english.group(1).strip()
    question = question.replace("ـ", "")  # tatweel: "وفقاً لـ قسد"
    match = _ASKED_AR.search(normalize_arabic(question))
    if not match:
        subject = _ASKED_AR_SUBJECT.search(normalize_arabic(question))
        if not subject:
            return ""
        words = []
        for word in (w.strip("\"«»؟?،,") for w in subject.group(1).split()):
            if not word or word in _PRONOUNS or word in ("من", "في", "عن", "انها", "انه", "انهم"):
                break  # "قالت أعماق إن عناصر ...": the source ends where what it said begins
            words.append(word)
        found = _original_words(question, len(words), subject.start(1)) or " ".join(words)
        return found.strip("؟?.،,!: ")
    words = [w.strip("\"«»") for w in match.group(1).split()]
    words = [w for w in words if w and w not in _PRONOUNS]
    found = (_original_words(question, len(words), match.start(1)) or " ".join(words)).strip("؟?.،,!: ")
    if re.search(r"(?:وفقا|طبقا)\s", match.group(0)):  # "وفقاً لقسد", "وفقاً للفصائل", "وفقاً لـ قسد": no ل
        found = found.removeprefix("ل ").strip()
        found = "ال" + found[2:] if found.startswith("لل") else found.removeprefix("ل")
    return found


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
