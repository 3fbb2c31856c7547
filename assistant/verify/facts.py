"""The facts of a sentence or passage: numbers in every script and number words, weekdays, months,
proper nouns (Latin, and quoted Arabic) matched across scripts, identities, and the names of a
question that no passage states. Pure."""


from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..text.lexicon import CORE_SUFFIXES, MONTHS, NAME_PREFIXES, NAME_WORDS_EN_AR
from ..text.normalize import (
    AR_STOPWORDS,
    EN_STOPWORDS,
    detect_language,
    normalize_arabic,
    numbers_in,
    stem_arabic,
    tokenize,
    weekdays_in,
)
from .claims import MARKER

# -- facts: numbers, days, months, names -----------------------------------------------------------

_EN_NUMBERS = {
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_AR_MONTHS = {normalize_arabic(name): month for month, names in MONTHS.items() for name in names if " " not in name}

#: Vague quantities are facts too: "dozens of civilians" needs a source that says عشرات.
_QUANTITIES = {"dozen": "dozens", "dozens": "dozens", "hundreds": "hundreds", "thousands": "thousands",
               "عشرات": "dozens", "مئات": "hundreds", "الاف": "thousands"}


#: Capitalised words that start sentences or answers without naming anything.
_COMMON_CAPITALISED = frozenset(
    """
    according although another as at because both but by despite during each either for from however
    in including meanwhile moreover more most neither no none not nothing now of on once one only other
    some such that the their there these they this those though thus to two under until when where
    whereas which while who with yes yet after before since also all among about around over
    it its he she we you i his her our your my sources source document documents passage passage's
    answer question reports report fighting clashes fighters prisoners officials several many few
    sunday monday tuesday wednesday thursday friday saturday
    """.split()
) | EN_STOPWORDS | frozenset(MONTHS) | frozenset(_EN_NUMBERS) | frozenset(_QUANTITIES)

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_ARABIC_QUOTED = re.compile(r"[«\"“”]([^«»\"“”]{1,60})[»\"“”]")
AR_TOKEN = re.compile(r"[\u0621-\u064a]+")
_NAME_PARTICLES = frozenset({"al", "el", "ad", "as", "ar", "an", "ash", "at", "az", "bin", "ibn", "bint", "of", "the"})


def english_numbers(text: str) -> list[str]:
    """English number words as digit strings ("seven" -> "7").

    "one" (often a pronoun) and "two" ("the two sides": an Arabic dual, no numeral) are left out.
    """
    return [str(_EN_NUMBERS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _EN_NUMBERS]


def numbers_of(text: str) -> set[str]:
    """Every number a text states: digits in any script, Arabic and English number words, and the
    vague quantities dozens, hundreds and thousands (عشرات، مئات، آلاف).

    Thousands separators are dropped (1,000 -> 1000) and decimal zeros trimmed (3.0 -> 3).
    """
    folded = normalize_arabic(text)
    found = {_QUANTITIES[w] for w in re.findall(r"[a-z]+", folded) if w in _QUANTITIES}
    found |= {_QUANTITIES[stem_arabic(w)] for w in AR_TOKEN.findall(folded) if stem_arabic(w) in _QUANTITIES}
    for number in numbers_in(text) + english_numbers(text):
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
            number = number.replace(",", "")
        number = number.replace(",", ".")
        if "." in number:
            number = number.rstrip("0").rstrip(".")
        found.add(number)
    return found


def months_of(text: str) -> set[str]:
    """English names of the months mentioned, in English or Arabic."""
    months = {w for w in re.findall(r"[a-z]+", text.lower()) if w in MONTHS and w != "may"}
    months |= {"may"} if re.search(r"\bMay\b", text) else set()
    folded = normalize_arabic(text)
    months |= {month for token in AR_TOKEN.findall(folded)
               for month in [_AR_MONTHS.get(token) or _AR_MONTHS.get(stem_arabic(token))] if month}
    for month, names in MONTHS.items():
        if any(" " in name and normalize_arabic(name) in folded for name in names):
            months.add(month)
    return months


def latin_names(text: str) -> tuple[list[str], list[str]]:
    """Capitalised Latin words that name something ("Mazloum", "SDF"), and sentence-initial ones.

    A capitalised first word may be a name ("Amaq said ...") or an ordinary word ("Leaflets were
    ..."); without an English dictionary it is returned apart, as a possible name, unless it is an
    acronym, a glossary name, hyphenated (Al-Sinaa) or followed by another capitalised word.

    Returns:
        ``(names, possible_names)``.
    """
    matches = list(LATIN_WORD.finditer(text))
    names: list[str] = []
    possible: list[str] = []
    for index, match in enumerate(matches):
        word = re.sub(r"[’']s$", "", match.group(0))
        before = text[:match.start()]
        first = not re.search(r"[\w\u0600-\u06ff]", before) or bool(re.search(r"[.!?:؟]\s*[\"'«“(]?\s*$", before))
        following = matches[index + 1].group(0) if index + 1 < len(matches) else ""
        target = possible if first and not _counts_as_first_name(word, following) else names
        for part in word.split("-"):
            part = part.strip("'’")
            if len(part) < 2 or not part[0].isupper() or part.lower() in _NAME_PARTICLES:
                continue
            if part.lower() in _COMMON_CAPITALISED and not (part.isupper() and part.lower() in NAME_WORDS_EN_AR):
                continue
            target.append(part)
    return list(dict.fromkeys(names)), [p for p in dict.fromkeys(possible) if p not in names]


def _counts_as_first_name(word: str, following: str) -> bool:
    if word.isupper() and len(word) > 1:
        return True
    if word.lower() in NAME_WORDS_EN_AR or "-" in word:
        return True
    return bool(following) and following[0].isupper() and following.lower() not in _COMMON_CAPITALISED


def quoted_arabic_names(text: str) -> list[str]:
    """Arabic words inside quotes («مظلوم عبدي»): names, as Arabic marks them without capitals."""
    words = []
    for match in _ARABIC_QUOTED.finditer(text):
        for token in AR_TOKEN.findall(normalize_arabic(match.group(1))):
            if token not in AR_STOPWORDS and len(token) > 1:
                words.append(token)
    return list(dict.fromkeys(words))


# -- name matching across scripts -----------------------------------------------------------------

_AR_SKELETON = str.maketrans({
    "ب": "B", "ت": "T", "ث": "T", "ج": "J", "ح": "H", "خ": "X", "د": "D", "ذ": "Z", "ر": "R", "ز": "Z",
    "س": "S", "ش": "$", "ص": "S", "ض": "D", "ط": "T", "ظ": "Z", "ع": "", "غ": "G", "ف": "F", "ق": "K",
    "ك": "K", "ل": "L", "م": "M", "ن": "N", "ه": "H", "و": "", "ي": "", "ا": "", "ء": "", "ئ": "", "ؤ": "",
    "ى": "", "ة": "H", "پ": "B", "چ": "J", "گ": "K", "ڤ": "F",
})
_LATIN_DIGRAPHS = (("kh", "X"), ("gh", "G"), ("sh", "$"), ("ch", "$"), ("th", "T"), ("dh", "Z"), ("ph", "F"))
_LATIN_SKELETON = str.maketrans({
    "q": "K", "k": "K", "c": "K", "s": "S", "z": "Z", "t": "T", "d": "D", "h": "H", "j": "J", "g": "J",
    "f": "F", "p": "B", "v": "F", "b": "B", "l": "L", "m": "M", "n": "N", "r": "R", "x": "KS",
    "a": "", "e": "", "i": "", "o": "", "u": "", "y": "", "w": "", "'": "", "’": "", "-": "",
})


def latin_skeleton(word: str) -> str:
    """Consonant skeleton of a transliterated name: vowels, w and y dropped ("Ghweiran" -> "GRN")."""
    word = re.sub(r"^(?:al|el|ad|as|ar|an|ash|at|az)-", "", word.lower())
    for digraph, code in _LATIN_DIGRAPHS:
        word = word.replace(digraph, code)
    skeleton = re.sub(r"[^A-Z$]", "", word.translate(_LATIN_SKELETON))
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    return skeleton[:-1] if skeleton.endswith("H") and len(skeleton) > 2 else skeleton


def arabic_skeletons(token: str) -> set[str]:
    """Consonant skeletons of an Arabic word, with and without its clitic prefixes ("الحسكة" -> {"HSK", ...})."""
    token = normalize_arabic(token)
    variants = {token} | {token[len(p):] for p in NAME_PREFIXES if token.startswith(p) and len(token) - len(p) >= 2}
    skeletons = set()
    for variant in variants:
        skeleton = variant.translate(_AR_SKELETON)
        if skeleton.endswith("H") and len(skeleton) > 2:
            skeleton = skeleton[:-1]
        if skeleton:
            skeletons.add(skeleton)
            skeletons.add(re.sub(r"(.)\1+", r"\1", skeleton))
    return skeletons


@dataclass(frozen=True)
class PassageFacts:
    """What a passage states, precomputed once for all the sentences checked against it."""

    folded: str
    numbers: frozenset[str]
    days: frozenset[str]
    months: frozenset[str]
    latin_words: frozenset[str]
    arabic_tokens: frozenset[str]
    skeletons: frozenset[str]
    language: str
    negated: tuple[bool, ...] = ()

    @classmethod
    def of(cls, text: str) -> PassageFacts:
        """Extract the facts of a passage."""
        folded = normalize_arabic(text)
        tokens = AR_TOKEN.findall(folded)
        arabic = {t for t in tokens} | {stem_arabic(t) for t in tokens}
        skeletons: set[str] = set()
        for index, token in enumerate(tokens):
            if token in AR_STOPWORDS:
                continue
            skeletons |= arabic_skeletons(token)
            if index + 1 < len(tokens):  # names written as two words: عبد الله
                skeletons |= {a + b for a in arabic_skeletons(token) for b in arabic_skeletons(tokens[index + 1])}
        latin = {w.lower().strip("'’") for w in LATIN_WORD.findall(text)}
        latin |= {part for w in latin for part in w.split("-")}
        return cls(folded, frozenset(numbers_of(text)), frozenset(weekdays_in(text)), frozenset(months_of(text)),
                   frozenset(latin), frozenset(arabic), frozenset(skeletons), detect_language(text))

    def has_latin_name(self, name: str) -> bool:
        """Whether a capitalised Latin word is in the passage, as written, transliterated or translated."""
        lowered = name.lower()
        if lowered in self.latin_words or lowered.rstrip("s") in self.latin_words:
            return True
        glossary = NAME_WORDS_EN_AR.get(lowered) or NAME_WORDS_EN_AR.get(lowered.rstrip("s"))
        if glossary and any(form in self.folded for form in glossary):
            return True
        skeleton = latin_skeleton(name)
        if len(skeleton) < 2:
            return False
        return skeleton in self.skeletons

    def has_arabic_name(self, token: str) -> bool:
        """Whether an Arabic word from a quoted name is in the passage (any clitic form, or transliterated)."""
        if token in self.arabic_tokens or stem_arabic(token) in self.arabic_tokens:
            return True
        if token in self.folded:
            return True
        if self.latin_words:
            wanted = arabic_skeletons(token)
            return any(latin_skeleton(word) in wanted for word in self.latin_words if len(word) > 2)
        return False


@dataclass(frozen=True)
class ClaimFacts:
    """What a sentence states that its passage must state too."""

    numbers: frozenset[str]
    days: frozenset[str]
    months: frozenset[str]
    latin_names: tuple[str, ...]
    arabic_names: tuple[str, ...]
    possible_names: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str) -> ClaimFacts:
        """Extract the checkable facts of a sentence."""
        names, possible = latin_names(text)
        return cls(frozenset(numbers_of(text)), frozenset(weekdays_in(text)), frozenset(months_of(text)),
                   tuple(names), tuple(quoted_arabic_names(text)), tuple(possible))


def missing_facts(claim: ClaimFacts, passages: Sequence[PassageFacts],
                  all_passages: Sequence[PassageFacts] = ()) -> list[str]:
    """The claim's numbers, days, months and names that none of the passages states.

    A sentence-initial capitalised word counts as a name when any of ``all_passages`` (every
    source the LLM saw) has it: "Amaq said 80 ..." citing a passage without Amaq is caught, while
    "Leaflets were ..." is left alone.
    """
    missing: list[str] = []
    for word in claim.possible_names:
        if any(p.has_latin_name(word) for p in all_passages) and not any(p.has_latin_name(word) for p in passages):
            missing.append(f"name {word}")
    numbers = set().union(*(p.numbers for p in passages)) if passages else set()
    days = set().union(*(p.days for p in passages)) if passages else set()
    months = set().union(*(p.months for p in passages)) if passages else set()
    missing += [f"number {n}" for n in sorted(claim.numbers - numbers)]
    missing += [f"day {d}" for d in sorted(claim.days - days)]
    missing += [f"month {m}" for m in sorted(claim.months - months)]
    missing += [f"name {n}" for n in claim.latin_names if not any(p.has_latin_name(n) for p in passages)]
    missing += [f"name {n}" for n in claim.arabic_names if not any(p.has_arabic_name(n) for p in passages)]
    return missing


#: Glossary entries that name a country, people or group. An Arabic question names one by its
#: Arabic form («أمريكياً»; a broken plural such as «الأتراك» is not read) as an English one does
#: by a capital ("American").
_NAMED = ("sdf", "daesh", "syria", "syrian", "us", "usa", "america", "american", "kurdish", "kurds", "kurd", "iraq",
          "iraqi", "turkey", "turkish", "russia", "russian", "iran")
#: What an Arabic name of one may carry after its stem: a nisba or a country's ending (أمريكيين، تركيا).
_NAME_ENDINGS = ("", "ي", "يه", "يا", "يين", "يون", "يان", "ا")


def absent_names(question: str, passages: Sequence[PassageFacts]) -> list[str]:
    """The names of a question that none of the passages states, where that can be shown.

    A question about something no passage names ("How many American soldiers …" over passages
    that never mention Americans) has no answer in them, however well a passage's number or phrase
    fits the rest of it. Names are capitalised Latin words, quoted Arabic words and the Arabic
    forms of the glossary's countries, peoples and groups. A name is shown absent in a passage of
    its own script, and in one of the other script only through the glossary: a transliteration
    whose consonant skeleton matches nothing may still be there, spelt otherwise. Of the glossary's
    words only those countries, peoples and groups and acronyms count as names.
    """
    if not passages:
        return []
    absent = []
    names, _ = latin_names(question)
    for name in names:
        # A glossary word names something only as a country, people or group, or as an acronym
        # ("US", "IS"); "President" or "Army" is a title or an institution the passage may leave out.
        if _glossed(name):
            checkable = name.isupper() or name.lower() in _NAMED or name.lower().rstrip("s") in _NAMED
        else:
            checkable = all(p.language == "en" for p in passages)
        if checkable and not any(_names(p, name) for p in passages):
            absent.append(name)
    if all(p.language == "ar" for p in passages):
        absent += [w for w in quoted_arabic_names(question) if not any(p.has_arabic_name(w) for p in passages)]
    for token in AR_TOKEN.findall(normalize_arabic(MARKER.sub(" ", question))):
        keys = _named_keys(stem_arabic(token))
        if keys and not any(_names(p, key) for p in passages for key in keys):
            absent.append(token)
    return list(dict.fromkeys(absent))


def _glossed(name: str) -> tuple[str, ...]:
    return NAME_WORDS_EN_AR.get(name.lower()) or NAME_WORDS_EN_AR.get(name.lower().rstrip("s")) or ()


def _names(passage: PassageFacts, name: str) -> bool:
    """Whether a passage names ``name``: a glossary name as written or by its translation (its
    consonant skeleton is no evidence once the translation is known: "America" ~ «المعارك»)."""
    forms = _glossed(name)
    if not forms:
        return passage.has_latin_name(name)
    lowered = name.lower()
    return (lowered in passage.latin_words or lowered.rstrip("s") in passage.latin_words
            or any(form in passage.folded for form in forms))


def _named_keys(stem: str) -> list[str]:
    """The entries of :data:`_NAMED` an Arabic word (clitics stripped) names: أمريكياً -> us, usa, america, american.
    A stem of three letters needs an ending, as a bare one is often another word (ترك "left")."""
    return [key for key in _NAMED for form in NAME_WORDS_EN_AR[key] if " " not in form
            and any(stem == form + ending for ending in _NAME_ENDINGS[0 if len(form) > 3 else 1:])]


_AR_COPULA = re.compile(r"(?:^|\s)(?:هو|هي|هم|هما)\s+(.+)$")


def identity_complement(claim: str) -> str:
    """What follows the copula of an Arabic identity sentence ("القائد العام هو أحمد خليل" ->
    "أحمد خليل"), ``""`` when there is none: the answer itself, every word of which its passage
    must have. Names written without «quotes» are caught here."""
    match = _AR_COPULA.search(MARKER.sub(" ", claim).strip(" .،؛؟!"))
    return match.group(1) if match else ""


def identity_head(claim: str) -> str:
    """The first content word before the copula of an Arabic identity sentence ("مدير السجن هو …"
    -> "مدير"), ``""`` when there is none: the role or thing being identified, which its passage
    must name too (a true name given to a role the passage never mentions is still invented)."""
    text = MARKER.sub(" ", claim).strip(" .،؛؟!")
    match = _AR_COPULA.search(text)
    subject = re.split(r"[،,:]", text[:match.start()])[-1] if match else ""  # after a lead-in ("بحسب المصادر، …")
    cores = [core for core in content_cores(subject) if core not in _generic_heads()]
    return cores[0] if cores else ""


@lru_cache(maxsize=1)
def _generic_heads() -> frozenset[str]:
    """Words that open an identity sentence without naming what is identified ("عدد القتلى هو …",
    "اسم القائد هو …"): the word after them is its head."""
    return frozenset(content_cores("عدد إجمالي أجمالي مجموع حصيلة اسم نوع"))


# -- content words ----------------------------------------------------------------------------



def _core(token: str) -> str:
    """A search token without Arabic clitic prefixes and common suffixes (at least three letters kept)."""
    if not AR_TOKEN.fullmatch(token):
        return token
    token = stem_arabic(token)
    for _ in range(2):
        for suffix in CORE_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[:-len(suffix)]
                break
    return token


def content_cores(text: str) -> list[str]:
    """The content words of a text, stemmed (English) or stripped of affixes (Arabic); numbers left out."""
    return [_core(t) for t in tokenize(text) if not t.isdigit()]
