"""A short answer for a reader of the other language: what can be rendered honestly, and nothing more.

No translation model installs offline here (see ../shared/MODELS.md), so an Arabic span is rendered
for an English reader word by word, each word by the most faithful means available:

- numbers as digits (Arabic-Indic digits and number words: "سبعة" -> 7);
- weekdays and months by name (a fixed table: they are closed sets);
- words FreeDict's dictionaries translate, glossed with their first translation (marked as a gloss);
- any other word, and every word of an answer to "who" or "where" (names of people, places,
  organisations), transliterated with the small table below: a simplified form of common
  English-press romanisation (consonants as in the ALA-LC table without diacritics, long vowels
  as a/u/i, the article as "al-"). No transliteration library for Arabic is packaged with a plain
  romanisation (camel-tools' schemes are Buckwalter-style, for machines), hence the table.

The original span is always kept beside the rendering, so nothing is invented. An English span for an
Arabic reader gets the mirror: digits, Arabic weekday and month names, glossary words; names stay in
Latin letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...text.glossary import WordGlosses
from ...text.lexicon import MONTHS
from ...text.normalize import normalize_arabic, numbers_in

_LETTERS = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ء": "", "ؤ": "u", "ئ": "i", "ب": "b", "ت": "t", "ث": "th", "ج": "j",
    "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d",
    "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n",
    "ه": "h", "و": "w", "ي": "y", "ى": "a", "ة": "a",
}
_MONTHS_AR_EN = {arabic: english.capitalize() for english, names in MONTHS.items() for arabic in names}
_WEEKDAYS_AR_EN = {
    "الاثنين": "Monday", "الثلاثاء": "Tuesday", "الاربعاء": "Wednesday", "الخميس": "Thursday", "الجمعه": "Friday",
    "السبت": "Saturday", "الاحد": "Sunday",
}
#: English weekday and month names -> Arabic (the Egyptian-style month names, read across the Arab press).
_EN_AR = {english.lower(): arabic for arabic, english in (
    *_WEEKDAYS_AR_EN.items(), *[(m, e) for m, e in _MONTHS_AR_EN.items() if m in (
        "يناير", "فبراير", "مارس", "ابريل", "مايو", "يونيو", "يوليو", "اغسطس", "سبتمبر", "اكتوبر", "نوفمبر",
        "ديسمبر")])}
_ARABIC = re.compile(r"[\u0621-\u064a\u0660-\u0669]")
_WORD = re.compile(r"\S+")
_DIACRITICS = re.compile(r"[\u064b-\u0652\u0670\u0640]")
_ENGLISH_ARTICLES = frozenset({"the", "a", "an"})


def _month_pattern(folded_name: str) -> re.Pattern[str]:
    """A month name as written (any alef or ta marbuta spelling), with an optional article or clitic."""
    letters = "".join({"ا": "[اأإآ]", "ه": "[هة]", "ي": "[يى]"}.get(c, re.escape(c)) for c in folded_name)
    return re.compile(rf"(?<!\S)(?:[وبل]?ال)?{letters}(?!\S)")


@dataclass(frozen=True)
class Rendering:
    """A span rendered for the other language.

    Attributes:
        text: The rendering ("7", "Sunday", "Mazlum Abdi", "prison"); the span itself when nothing
            needed rendering.
        how: ``same`` (no rendering needed), ``exact`` (digits, days and months only),
            ``transliteration`` (names in Latin letters) or ``gloss`` (word by word through the
            dictionary, names transliterated; approximate, and marked as such).
    """

    text: str
    how: str

    def shown(self, original: str) -> str:
        """The short answer as displayed: the rendering with the original beside it."""
        if self.how == "same":
            return original
        if self.how == "gloss":
            return f"{self.text} (gloss of «{original}»)" if self.text else f"«{original}»"
        return f"{self.text} («{original}»)"


def has_arabic(text: str) -> bool:
    """Whether the text holds Arabic letters or Arabic-Indic digits."""
    return bool(_ARABIC.search(text))


def transliterate(word: str) -> str:
    """A plain romanisation of one Arabic word ("مظلوم" -> "Mazlum"-like "Mzlum"), capitalised."""
    folded = _DIACRITICS.sub("", word)
    prefix = ""
    for article in ("وال", "بال", "لل", "ال"):
        if folded.startswith(article) and len(folded) > len(article) + 1:
            prefix = {"وال": "wa-al-", "بال": "bi-al-", "لل": "li-al-", "ال": "al-"}[article]
            folded = folded[len(article):]
            break
    out = []
    for i, letter in enumerate(folded):
        latin = _LETTERS.get(letter, letter if letter.isascii() else "")
        between = 0 < i < len(folded) - 1
        if letter == "و" and between:
            latin = "u"
        elif letter == "ي" and between or letter == "ي" and i == len(folded) - 1 and i > 0:
            latin = "i"
        elif letter == "ع":
            latin = "'" if between else ("a" if i == 0 else "")
        out.append(latin)
    romanised = "".join(out)
    return prefix + romanised[:1].upper() + romanised[1:] if romanised else prefix


def render_for(span: str, reader_language: str, glosses: WordGlosses | None, names: bool = False) -> Rendering:
    """``span`` rendered for a reader of ``reader_language`` (``en`` or ``ar``). Pure.

    ``names``: the question asks who or where, so Arabic words are transliterated rather than
    glossed ("مظلوم" is a name there, not "downtrodden").
    """
    arabic = has_arabic(span)
    if (reader_language == "en") != arabic:
        return Rendering(span, "same")
    return _arabic_to_english(span, glosses, names) if arabic else _english_to_arabic(span, glosses)


def _arabic_to_english(span: str, glosses: WordGlosses | None, names: bool) -> Rendering:
    words, exact, glossed = [], True, False
    plain = _DIACRITICS.sub("", span)
    for name, english in sorted(_MONTHS_AR_EN.items(), key=lambda kv: -len(kv[0])):
        plain = _month_pattern(name).sub(english, plain)
    for word in _WORD.findall(plain):
        original = word.strip("،,.؛:()\"«»")
        bare = normalize_arabic(original)
        if not bare:
            continue
        day = _WEEKDAYS_AR_EN.get(bare) or next((d for n, d in _WEEKDAYS_AR_EN.items() if bare.endswith(n)), None)
        if bare.isascii():  # Latin words as written; Arabic-Indic digits come back as ASCII ones
            words.append(bare if bare.replace(",", "").replace(".", "").isdigit() else original)
        elif day:
            words.append(day)
        elif numbers_in(bare):
            words.append(numbers_in(bare)[0])
        else:
            exact = False
            english = _SMALL_WORDS.get(bare) or ("" if names or glosses is None else glosses.english(bare))
            glossed = glossed or bool(english)
            words.append(english or transliterate(original))
    text = " ".join(words)
    return Rendering(text, "exact" if exact else "gloss" if glossed else "transliteration")


_SMALL_WORDS = {"و": "and", "في": "in", "من": "of", "على": "on", "الى": "to", "عن": "about", "او": "or"}


def _english_to_arabic(span: str, glosses: WordGlosses | None) -> Rendering:
    words, exact = [], True
    for word in _WORD.findall(span):
        bare = word.strip(",.;:()\"'")
        if not bare or bare.lower() in _ENGLISH_ARTICLES:
            continue
        if bare.lower() in _EN_AR:
            words.append(_EN_AR[bare.lower()])
        elif bare.replace(",", "").replace(".", "").isdigit():
            words.append(bare)
        elif bare[:1].isupper():
            words.append(bare)  # a name stays in Latin letters
        else:
            exact = False
            words.append((glosses.arabic(bare) if glosses else "") or bare)
    return Rendering(" ".join(words), "exact" if exact else "gloss")

