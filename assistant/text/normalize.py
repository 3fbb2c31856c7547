"""Arabic and English text handling: normalisation, tokens, sentences, language. Pure functions.

Written here rather than taken from a library because none of the packaged ones does what
retrieval and citation need together: llama-index's SentenceSplitter ignores Arabic punctuation
(، ؛ ؟) and loses offsets, and Arabic normalisers (pyarabic, camel-tools) are not packaged with the
light prefix stemming BM25 wants. English stemming does come from PyStemmer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from .lexicon import (
    AR_REFERRING_CLITICS,
    EASTERN_DIGITS,
    STEM_PREFIXES,
    STEM_SUFFIXES,
    WEEKDAYS,
    WEEKDAYS_WRITTEN_AR,
)

_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
# Harakat, tanween, shadda, sukun, dagger alef, Quranic marks; and tatweel.
_DIACRITICS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_TOKEN = re.compile(r"[\w\u0621-\u064a]+", re.UNICODE)
# Controls and bidi overrides carry no meaning for retrieval and can hide text in the UI.
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# Clitic prefixes, longest first. Stripped only when at least three letters remain.

_AR_STOPWORDS_RAW = (
    """
    في من على الى إلى عن مع ان أن إن كان كانت يكون التي الذي الذين اللذين هذا هذه ذلك تلك هو هي هم
    ما ماذا متى اين أين كيف لماذا كم هل من او أو ثم قد لقد لا لم لن ليس بين حتى منذ عند كل بعض غير
    اي أي وفي وعلى ومن وقد فيه فيها به بها له لها منه منها عليه عليها انه أنه انها أنها الا إلا اذا إذا
    يا ايضا أيضا وهو وهي بعد قبل خلال حول نحو عبر ضد دون سوى تم وتم ذات ماذا الذى اى يوم اسم وماذا وكم بحسب حسب وفق وفقا
    """.split()
)
EN_STOPWORDS = frozenset(
    """
    a an the of in on at to for from by with about as into over after before during and or but not no
    is are was were be been being do does did has have had what which who whom whose when where why
    how many much it its this that these those there their they them he she his her him we you i me my
    our your can could would should will shall may might than then so if also any all some said say says
    according
    """.split()
)

_EN_WEEKDAYS = {v.lower(): v for v in WEEKDAYS.values()}

# Arabic number words as they appear in news text (normalised spelling), and their values.
_AR_NUMBER_WORDS = {
    "واحد": 1, "اثنان": 2, "اثنين": 2, "ثلاثه": 3, "ثلاث": 3, "اربعه": 4, "اربع": 4, "خمسه": 5,
    "خمس": 5, "سته": 6, "ست": 6, "سبعه": 7, "سبع": 7, "ثمانيه": 8, "ثماني": 8, "تسعه": 9, "تسع": 9,
    "عشره": 10, "عشر": 10, "عشرات": None, "مئات": None, "الاف": None,
}


def _fold_stopwords(words: tuple[str, ...] | list[str]) -> frozenset[str]:
    return frozenset(normalize_arabic(w) for w in words)


def normalize_arabic(text: str) -> str:
    """Fold Arabic spelling variants so that equal words compare equal.

    Unifies أ/إ/آ/ٱ to ا, ة to ه and ى to ي, strips diacritics and tatweel, and maps Arabic-Indic
    and Persian digits to ASCII digits. Latin text is lower-cased; other text is kept.
    """
    text = unicodedata.normalize("NFC", text)
    text = _DIACRITICS.sub("", text).translate(_ALEF).translate(EASTERN_DIGITS)
    return text.lower()


AR_STOPWORDS = _fold_stopwords(_AR_STOPWORDS_RAW)


def strip_invisible(text: str) -> str:
    """Remove control characters, zero-width marks and bidi overrides."""
    return _INVISIBLE.sub("", text)


def stem_arabic(token: str) -> str:
    """Strip one clitic prefix (و ف ب ل ال and their combinations) when ≥ 3 letters remain."""
    for prefix in STEM_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix):]
    return token


@functools.lru_cache(maxsize=1)
def _english_stemmer():  # noqa: ANN202 - PyStemmer has no type hints
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    if _ARABIC_LETTER.match(token):
        return stem_arabic(token)
    if token.isascii() and token.isalpha():
        return _english_stemmer().stemWord(token)
    return token


def tokenize(text: str) -> list[str]:
    """Search tokens: normalised, stopwords dropped, lightly stemmed (Arabic and English)."""
    tokens = []
    for raw in _TOKEN.findall(normalize_arabic(text)):
        if raw in AR_STOPWORDS or raw in EN_STOPWORDS:
            continue
        token = _stem(raw)
        if token and token not in AR_STOPWORDS:
            tokens.append(token)
    return tokens




def fold_suffix(token: str) -> str:
    """An Arabic token without one plural, dual, feminine or accusative ending, when ≥ 3 letters remain,
    so a counted noun matches the question's wording ("مدنيون" ~ "سبعة مدنيين", "عنصراً" ~ "عنصر").

    Written here because PyStemmer's Snowball Arabic stemmer over-stems for this use ("آلية" -> "ال",
    "سجيناً" -> "سجي"): counted nouns that differ would match. The search tokens keep the light prefix
    stemming the lexical index is built with.
    """
    for suffix in STEM_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def detect_language(text: str) -> str:
    """Return ``"ar"`` when Arabic letters dominate, ``"en"`` otherwise (the reply language)."""
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return "ar" if arabic > 0 and arabic >= latin else "en"


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit of any script."""
    return any(ch.isalnum() for ch in text)


_PERSIAN_URDU = re.compile(r"[\u067e\u0686\u0698\u06af\u06ba\u06be\u06c1\u06d2]")  # پ چ ژ گ ں ھ ہ ے
_ACCENTED_LATIN = re.compile(r"[\u00c0-\u024f]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def other_language(text: str) -> str:
    """The kind of text a question is in when it is neither Arabic nor English ("Persian or Urdu",
    "another language written in Latin letters", "Cyrillic" ...), else ``""``.

    Written here, as no library that installs here tells Arabic from Persian in a short question:
    Persian and Urdu letters Arabic lacks; a Latin-script question with accented letters and no
    English function word; a question whose letters are mostly of another script.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return ""
    arabic = len(_ARABIC_LETTER.findall(text)) + len(_PERSIAN_URDU.findall(text))
    latin = len(_LATIN_WORD.findall(text)) and sum(len(w) for w in _LATIN_WORD.findall(text))
    if arabic >= latin:
        if arabic < len(letters) / 2:
            return _script_of(letters)
        # Arabic writes a foreign name with چ or گ now and then; Persian and Urdu keyboards type their
        # own kaf and yeh (ک ی), which Arabic keyboards never do, and never Arabic's ة ي ك.
        own = _PERSIAN_URDU.search(text) or re.search("[\u06a9\u06cc]", text)
        return "Persian or Urdu" if own and re.search("[\u06a9\u06cc\u06ba\u06d2\u06c1]", text) and not \
            re.search("[\u0629\u064a\u0643]", text) else ""
    if latin < len(letters) / 2:
        return _script_of(letters)
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    english = [w for w in words if w in EN_STOPWORDS and w != "a"]
    if len(words) >= 2 and not english and _ACCENTED_LATIN.search(text):
        return "another language written in Latin letters"
    return ""


def _script_of(letters: list[str]) -> str:
    names = [unicodedata.name(ch, "").split()[0] for ch in letters if not ch.isascii()]
    common = max(set(names), key=names.count) if names else ""
    return {"CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean"}.get(
        common, common.capitalize() or "another script")


@dataclass(frozen=True)
class Span:
    """A piece of a text with its offsets: ``text[start:end]`` is the piece."""

    start: int
    end: int
    text: str


# A sentence ends at . ! ? ؟ ؛ (and runs of them, with closing quotes or brackets) followed by
# white space, or at a newline. A full stop between digits (3.5) is not an end.
_SENTENCE_END = re.compile(r"(?<!\d)[.!?؟؛]+[\"'»”)\]]*(?=\s|$)|[.!?؟؛]+(?=\s|$)|\n+")
_CLAUSE_END = re.compile(r"[،,](?=\s)")


def _spans(text: str, start: int, end: int, boundary: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    cursor = start
    for match in boundary.finditer(text, start, end):
        _append_trimmed(spans, text, cursor, match.end())
        cursor = match.end()
    _append_trimmed(spans, text, cursor, end)
    return spans


def _append_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append(Span(start, end, text[start:end]))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split ``text[start:end]`` into sentences on ``. ! ? ؟ ؛`` and newlines, keeping offsets."""
    return _spans(text, start, len(text) if end is None else end, _SENTENCE_END)


def split_clauses(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split on the secondary break ``،`` (and ``,``), keeping offsets."""
    return _spans(text, start, len(text) if end is None else end, _CLAUSE_END)


def split_paragraphs(text: str) -> list[Span]:
    """Non-blank lines, with offsets (one paragraph per line, as news text is stored)."""
    spans: list[Span] = []
    cursor = 0
    for line in text.splitlines(keepends=True):
        _append_trimmed(spans, text, cursor, cursor + len(line))
        cursor += len(line)
    return spans


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_in(text: str) -> list[str]:
    """Numbers in the text as ASCII digit strings, including Arabic number words (سبعة -> 7)."""
    folded = normalize_arabic(text)
    found = _NUMBER.findall(folded)
    for token in _TOKEN.findall(folded):
        value = _AR_NUMBER_WORDS.get(stem_arabic(token)) or _AR_NUMBER_WORDS.get(token)
        if value:
            found.append(str(value))
    return found


def day_name(value: str, language: str) -> str:
    """A short answer in the reply's language: an English weekday name (as :func:`weekdays_in` gives)
    in Arabic for an Arabic reply; anything else as it is."""
    return WEEKDAYS_WRITTEN_AR.get(value, value) if language == "ar" else value


def weekdays_in(text: str) -> list[str]:
    """English names of the weekdays mentioned (Arabic or English)."""
    folded = normalize_arabic(text)
    days = []
    for token in _TOKEN.findall(folded):
        # A prefixed day keeps its article ("والأحد", "بالسبت"); a bare "أحد" is "one (of)".
        day = WEEKDAYS.get(token) or next((d for name, d in WEEKDAYS.items() if token.endswith(name)), None)
        day = day or _EN_WEEKDAYS.get(token)
        if day and day not in days:
            days.append(day)
    return days


def referring_clitic(word: str) -> tuple[str, str] | None:
    """``(conjunction, form)`` when a word is one of :data:`~.lexicon.AR_REFERRING_CLITICS` ("وبحسبها" ->
    ("و", "بحسبها")), else ``None``. A word written with a taa marbuta is a noun whatever it folds to:
    «آلية» (a vehicle) is not «إليه» (to it)."""
    if _DIACRITICS.sub("", word).strip("؟?.،,!").endswith("ة"):
        return None
    bare = normalize_arabic(word).strip("؟?.،,!")
    if bare in AR_REFERRING_CLITICS:
        return "", bare
    if bare[:1] in ("و", "ف") and bare[1:] in AR_REFERRING_CLITICS:
        return bare[:1], bare[1:]
    return None
