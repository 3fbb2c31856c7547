"""Sentence-level verification of an LLM answer against the numbered sources it was given. Pure.

Every sentence of the answer (``. ! ? ؟ ؛`` and newlines end one) is checked against the passages it
cites. It is supported only when all of these hold:

- similarity: the multilingual embedding of the sentence is close enough to the best-matching piece
  of a cited passage (its sentences, ``،`` clauses and 12-word windows: a short claim matches a
  clause of a long news sentence far better than the sentence), with one calibrated threshold for
  same-language pairs and one for cross-language pairs;
- the citation is the right one: no other source that could itself support the sentence (one
  holding its facts and words) matches it clearly better (``max_gap``);
- facts: every number (digits in any script, Arabic and English number words, "dozens"), weekday,
  month and proper noun of the sentence appears in the cited passages. Proper nouns are capitalised
  Latin words and, in Arabic, words in quotes; a Latin name matches an Arabic passage through its
  consonant skeleton (Mazloum ~ مظلوم) or a small glossary (SDF ~ قسد);
- in a same-language pair, at least half of its content words are in the cited passages, and all
  the words after the copula of an Arabic identity sentence ("… هو أحمد خليل"); across languages,
  every event it claims from a small lexicon (executed, surrendered, wounded …) is named there;
- polarity: negated exactly when the matching piece is ("failed to", "لم"), and no success claimed
  where the source reports failure;
- binding: each number counts what the passage says it counts (84 fighters, not 84 civilians);
- the reader's answer (when the trained reader answered the same question over the same passages,
  :class:`ReaderAnswer`): the reader prefers an answer to none, and the sentence states the answer it
  found (its numbers, days and months, or most of its words). Every check above shows that a
  sentence's words come from a passage; only this one shows that the sentence answers the question
  with what the passage says answers it, rather than relating true words wrongly ("the prisoners
  were guarded by the staff" where they took the staff hostage).

``[n]`` with no such source is removed. A sentence without a marker gets the most similar passage
when it passes every check with a stricter threshold (citation repair); otherwise it is unsupported.
Unsupported sentences are dropped, or kept with a mark (``mode="mark"``).

Only the embedding function is passed in, so everything here runs on plain data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from .text import (
    AR_STOPWORDS,
    EN_STOPWORDS,
    Span,
    detect_language,
    normalize_arabic,
    numbers_in,
    split_clauses,
    split_sentences,
    stem_arabic,
    tokenize,
    weekdays_in,
)

EmbedFn = Callable[[list[str]], np.ndarray]

_DIGIT = "0-9\u0660-\u0669\u06f0-\u06f9"
#: A citation marker: [1], [1, 2], [1-3], [١], [source 2], [المصدر ٢].
MARKER = re.compile(
    rf"\[\s*(?:(?:sources?|src|المصدر|مصدر)\s*:?\s*)?([{_DIGIT}]+(?:\s*[,،\-–]\s*[{_DIGIT}]+)*)\s*\]",
    re.IGNORECASE,
)
_EASTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@dataclass(frozen=True)
class VerifySettings:
    """Thresholds of verification, calibrated on the shipped question set (``tests/bench_verify.py``).

    Attributes:
        min_similarity_same: Least cosine similarity between a sentence and the best piece of its
            cited passage, when both are in the same language.
        min_similarity_cross: The same for an English sentence and an Arabic passage (or the reverse);
            cross-language similarities run lower.
        max_gap: How far below the best-matching source the cited one may fall; further, and the
            sentence is taken to come from elsewhere (a plausible but wrong ``[n]``).
        min_coverage: In a same-language pair, the least share of the sentence's content words
            found in the cited passage (catches additions the embedding glosses over).
        binding_margin: A number is taken to count something else when another number's counted
            words in the passage match the sentence's by this much more than its own do.
        binding_floor: … or when its own counted words in the passage match the sentence's less than
            this, whatever else the passage counts ("800 vehicles" where the passage's 800 are
            escaped fighters). Set below every counted phrase of the correct scripted answers
            (lowest 0.839, across languages; ``tests/bench_verify.py``) and of the right answers
            of the real-model bench (lowest 0.837; docs/llm-bench.md).
        repair_margin: An uncited sentence gets a citation only this far above the threshold.
        min_reader_margin: With a :class:`ReaderAnswer`, every sentence is unsupported when the
            reader's margin (best span score minus no-answer score) is below this. 0 is the reader's
            own decision boundary: below it, it would rather say there is no answer, and then the
            extractive answer (a verbatim quote) is safer than any paraphrase.
        min_answer_share: The share of the reader's answer words (when it has no number, day or
            month) a sentence must hold: most, not all, as the reader's span often carries a word
            beyond the answer ("24 الماضية"); with up to three words, all of them.
        mode: ``drop`` removes unsupported sentences; ``mark`` keeps them, marked.
    """

    min_similarity_same: float = 0.85
    min_similarity_cross: float = 0.81
    max_gap: float = 0.01
    min_coverage: float = 0.5
    binding_margin: float = 0.03
    binding_floor: float = 0.82
    repair_margin: float = 0.02
    min_reader_margin: float = 0.0
    min_answer_share: float = 0.75
    mode: str = "drop"

    def threshold(self, claim_language: str, source_language: str) -> float:
        """The similarity a sentence in one language needs against a passage in another."""
        return self.min_similarity_same if claim_language == source_language else self.min_similarity_cross


@dataclass(frozen=True)
class Source:
    """A numbered passage the LLM was given. ``text`` is the passage; ``start`` its source offset."""

    number: int
    text: str
    start: int = 0
    #: Its sentences, offsets relative to ``text``; split here when empty.
    sentences: tuple[Span, ...] = ()
    #: One unit vector per sentence, when already known (the index stores them).
    vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReaderAnswer:
    """What the trained reader answered to the same question over the same passages.

    Attributes:
        values: Its answer spans as the passages write them: one, or one per source when the
            sources disagree (any of them may be stated).
        margin: Its case for answering at all: best span score minus no-answer score.
        speakers: When the sources disagree, who gives each value (``""`` when its sentence does
            not say); a sentence stating one of the values must name its speaker, so a value with
            no known speaker is never shown attributed.
    """

    values: tuple[str, ...]
    margin: float
    speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """One sentence of the answer: as written (``raw``), without markers (``text``), and its markers."""

    raw: str
    text: str
    cited: tuple[int, ...]
    separator: str = " "


@dataclass(frozen=True)
class Verdict:
    """The outcome for one sentence.

    Attributes:
        claim: The sentence.
        supported: Whether it survives.
        citations: Source numbers it keeps (original numbering).
        removed: Markers it loses (no such source, or a source that does not support it).
        similarity: Best similarity to a sentence of a cited (or, uncited, any) passage.
        quotes: The best-matching sentence of each kept source, in source offsets.
        reason: Why it is unsupported, ``""`` when supported.
        repaired: True when an uncited sentence was given its citation here.
        gap: How far the cited source's similarity falls below the best source's (0 when it is the best).
    """

    claim: Claim
    supported: bool
    citations: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    similarity: float = 0.0
    quotes: dict[int, Span] = field(default_factory=dict)
    reason: str = ""
    repaired: bool = False
    gap: float = 0.0


# -- splitting ----------------------------------------------------------------------------------

def marker_numbers(inside: str) -> list[int]:
    """The source numbers in a marker's inside: ``"1, 3"`` -> [1, 3]; ``"2-4"`` -> [2, 3, 4]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,،]\s*", inside.translate(_EASTERN).strip()):
        bounds = re.split(r"\s*[\-–]\s*", part)
        if len(bounds) == 2 and all(b.isdigit() for b in bounds) and 0 <= int(bounds[1]) - int(bounds[0]) <= 20:
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+", re.IGNORECASE)


def split_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences (``. ! ? ؟ ؛`` and newlines), each with its ``[n]`` markers.

    A marker written after the full stop ("... killed. [1]") belongs to the sentence before it.
    """
    spans = split_sentences(answer)
    pieces: list[tuple[str, str]] = []  # (sentence as written, separator after it)
    for index, span in enumerate(spans):
        following = spans[index + 1].start if index + 1 < len(spans) else len(answer)
        separator = "\n" if "\n" in answer[span.end:following] else " "
        raw = span.text
        leading = _LEADING_MARKERS.match(raw)
        if leading and pieces:
            previous, previous_separator = pieces[-1]
            raw = raw[leading.end():].strip()
            pieces[-1] = (f"{previous} {leading.group(0).strip()}", previous_separator if raw else separator)
            if not raw:
                continue
        pieces.append((raw, separator))
    claims = []
    for raw, separator in pieces:
        cited = tuple(dict.fromkeys(n for m in MARKER.finditer(raw) for n in marker_numbers(m.group(1))))
        text = _strip_markers(raw)
        if text.strip(" .،,-–—:؛*"):
            claims.append(Claim(raw, text, cited, separator))
    return claims


# -- facts: numbers, days, months, names -----------------------------------------------------------

_EN_NUMBERS = {
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_MONTHS = {
    "january": ("يناير", "كانون الثاني"), "february": ("فبراير", "شباط"), "march": ("مارس", "اذار"),
    "april": ("ابريل", "نيسان"), "may": ("مايو", "ايار"), "june": ("يونيو", "حزيران"),
    "july": ("يوليو", "تموز"), "august": ("اغسطس", "اب"), "september": ("سبتمبر", "ايلول"),
    "october": ("اكتوبر", "تشرين الاول"), "november": ("نوفمبر", "تشرين الثاني"),
    "december": ("ديسمبر", "كانون الاول"),
}
_AR_MONTHS = {normalize_arabic(name): month for month, names in _MONTHS.items() for name in names if " " not in name}

#: Names whose English and Arabic forms share no consonant skeleton, and English words of
#: institution names ("Syrian Observatory for Human Rights") that are translated, not transliterated.
#: Values are normalised Arabic stems looked for inside the passage.
GLOSSARY: dict[str, tuple[str, ...]] = {
    "sdf": ("قسد", "قوات سوريا الديمقراطيه", "قوات سوريا الديموقراطيه"),
    "is": ("تنظيم", "داعش", "الدوله الاسلاميه"), "isis": ("تنظيم", "داعش", "الدوله الاسلاميه"),
    "isil": ("تنظيم", "داعش", "الدوله الاسلاميه"), "daesh": ("داعش", "تنظيم"),
    "islamic": ("اسلامي", "تنظيم الدوله"), "state": ("دوله",), "syria": ("سوري",), "syrian": ("سوري",),
    "democratic": ("ديمقراطي", "ديموقراطي"), "forces": ("قوات", "قوي"), "force": ("قوات", "قوه"),
    "observatory": ("مرصد",), "human": ("انسان",), "rights": ("حقوق",), "coalition": ("تحالف",),
    "international": ("دولي",), "global": ("دولي",), "media": ("اعلام",), "centre": ("مركز",),
    "center": ("مركز",), "agency": ("وكاله",), "news": ("اخبار", "انباء", "وكاله"), "prison": ("سجن",),
    "jail": ("سجن",), "army": ("جيش",), "government": ("حكوم",), "police": ("شرط",), "security": ("امن",),
    "internal": ("داخلي",), "commander": ("قائد",), "general": ("عام",), "chief": ("قائد", "عام"),
    "leader": ("زعيم", "قائد"), "president": ("رئيس",), "minister": ("وزير",), "ministry": ("وزار",),
    "council": ("مجلس",), "united": ("متحد", "امريك"), "nations": ("امم",), "un": ("الامم المتحده",),
    "us": ("امريك", "الولايات المتحده"), "usa": ("امريك", "الولايات المتحده"), "america": ("امريك",),
    "american": ("امريك",), "states": ("ولايات", "دول"), "kurdish": ("كرد",), "kurds": ("كرد",),
    "kurd": ("كرد",), "arab": ("عرب",), "arabs": ("عرب",), "iraq": ("عراق",), "iraqi": ("عراق",),
    "turkey": ("ترك",), "turkish": ("ترك",), "russia": ("روس",), "russian": ("روس",), "iran": ("ايران",),
    "counter": ("مكافحه",), "terrorism": ("ارهاب",), "anti": ("مكافحه",), "special": ("خاص",),
    "operations": ("عمليات",), "red": ("احمر",), "crescent": ("هلال",), "cross": ("صليب",),
    "north": ("شمال",), "northeast": ("شمال شرق",), "south": ("جنوب",), "east": ("شرق",), "west": ("غرب",),
    "northern": ("شمال",), "southern": ("جنوب",), "eastern": ("شرق",), "western": ("غرب",),
    "city": ("مدين",), "province": ("محافظ",), "governorate": ("محافظ",), "neighbourhood": ("حي",),
    "neighborhood": ("حي",), "district": ("حي",), "observatory's": ("مرصد",),
}

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
) | EN_STOPWORDS | frozenset(_MONTHS) | frozenset(_EN_NUMBERS) | frozenset(_QUANTITIES)

_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_ARABIC_QUOTED = re.compile(r"[«\"“”]([^«»\"“”]{1,60})[»\"“”]")
_AR_TOKEN = re.compile(r"[\u0621-\u064a]+")
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
    found |= {_QUANTITIES[stem_arabic(w)] for w in _AR_TOKEN.findall(folded) if stem_arabic(w) in _QUANTITIES}
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
    months = {w for w in re.findall(r"[a-z]+", text.lower()) if w in _MONTHS and w != "may"}
    months |= {"may"} if re.search(r"\bMay\b", text) else set()
    folded = normalize_arabic(text)
    months |= {month for token in _AR_TOKEN.findall(folded)
               for month in [_AR_MONTHS.get(token) or _AR_MONTHS.get(stem_arabic(token))] if month}
    for month, names in _MONTHS.items():
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
    matches = list(_LATIN_WORD.finditer(text))
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
            if part.lower() in _COMMON_CAPITALISED and not (part.isupper() and part.lower() in GLOSSARY):
                continue
            target.append(part)
    return list(dict.fromkeys(names)), [p for p in dict.fromkeys(possible) if p not in names]


def _counts_as_first_name(word: str, following: str) -> bool:
    if word.isupper() and len(word) > 1:
        return True
    if word.lower() in GLOSSARY or "-" in word:
        return True
    return bool(following) and following[0].isupper() and following.lower() not in _COMMON_CAPITALISED


def quoted_arabic_names(text: str) -> list[str]:
    """Arabic words inside quotes («مظلوم عبدي»): names, as Arabic marks them without capitals."""
    words = []
    for match in _ARABIC_QUOTED.finditer(text):
        for token in _AR_TOKEN.findall(normalize_arabic(match.group(1))):
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
_AR_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")


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
    variants = {token} | {token[len(p):] for p in _AR_PREFIXES if token.startswith(p) and len(token) - len(p) >= 2}
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
        tokens = _AR_TOKEN.findall(folded)
        arabic = {t for t in tokens} | {stem_arabic(t) for t in tokens}
        skeletons: set[str] = set()
        for index, token in enumerate(tokens):
            if token in AR_STOPWORDS:
                continue
            skeletons |= arabic_skeletons(token)
            if index + 1 < len(tokens):  # names written as two words: عبد الله
                skeletons |= {a + b for a in arabic_skeletons(token) for b in arabic_skeletons(tokens[index + 1])}
        latin = {w.lower().strip("'’") for w in _LATIN_WORD.findall(text)}
        latin |= {part for w in latin for part in w.split("-")}
        return cls(folded, frozenset(numbers_of(text)), frozenset(weekdays_in(text)), frozenset(months_of(text)),
                   frozenset(latin), frozenset(arabic), frozenset(skeletons), detect_language(text))

    def has_latin_name(self, name: str) -> bool:
        """Whether a capitalised Latin word is in the passage, as written, transliterated or translated."""
        lowered = name.lower()
        if lowered in self.latin_words or lowered.rstrip("s") in self.latin_words:
            return True
        glossary = GLOSSARY.get(lowered) or GLOSSARY.get(lowered.rstrip("s"))
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


# -- events (across languages) ---------------------------------------------------------------------

#: Events an English sentence may claim, with the normalised Arabic stems a passage reporting them
#: uses. Across languages there are no shared words to count, so an added event ("they were later
#: executed") would pass on similarity alone; it must be named in the cited passage.
EVENTS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    name: (re.compile(pattern), stems) for name, pattern, stems in (
        ("executed", r"\bexecut\w*", ("اعدم", "اعدام", "تصفي")),
        ("surrendered", r"\bsurrender\w*", ("استسلم", "استسلام", "سلموا انفسهم", "تسليم")),
        ("wounded", r"\b(?:wound\w*|injur\w*)", ("جرح", "جريح", "اصاب", "اصيب", "مصاب")),
        ("kidnapped", r"\b(?:kidnap\w*|abduct\w*)", ("خطف", "اختطاف")),
        ("ransom", r"\bransom\w*", ("فديه",)),
        ("shot down", r"\b(?:shot|shoot\w*) down\b|\bdowned\b", ("اسقط", "اسقاط")),
        ("arrested", r"\barrest\w*", ("اعتقل", "اعتقال", "القبض", "توقيف", "اوقف")),
        ("born", r"\bborn\b", ("مواليد", "ولد", "مولود")),
        ("destroyed", r"\bdestroy\w*", ("دمر", "تدمير", "حرق", "احرق")),
    )
}


#: Roles an English sentence may give someone ("the director of the prison is …"), with the
#: normalised Arabic stems of a passage naming that role. Like events: across languages a role
#: the passage never mentions would pass on similarity alone.
ROLES: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    name: (re.compile(pattern), stems) for name, pattern, stems in (
        ("director", r"\b(?:director|manager|warden)s?\b", ("مدير", "اداره", "ادار")),
        ("leader", r"\bleaders?\b", ("زعيم", "قائد", "قاده", "امير", "قياد")),
        ("spokesperson", r"\bspokes(?:man|woman|person|people|men)\b", ("متحدث", "ناطق")),
        ("head", r"\b(?:head|chief|president|chairman)s?\b(?!\s+(?:of\s+)?(?:quarters|office))",
         ("رئيس", "مدير", "قائد", "زعيم")),
        ("founder", r"\bfound(?:er|ers|ed)\b", ("مؤسس", "اسس", "تاسيس")),
        ("governor", r"\b(?:governor|mayor)s?\b", ("محافظ", "حاكم", "والي", "رئيس بلدي")),
        ("minister", r"\bministers?\b", ("وزير",)),
    )
}


def missing_events(claim: str, passages_folded: Sequence[str]) -> list[str]:
    """The events of :data:`EVENTS` and roles of :data:`ROLES` an English sentence claims that none of
    the (normalised) passages names."""
    lowered = claim.lower()
    return [f"{kind} «{name}»" for kind, lexicon in (("event", EVENTS), ("role", ROLES))
            for name, (pattern, stems) in lexicon.items()
            if pattern.search(lowered) and not any(stem in folded for folded in passages_folded for stem in stems)]


# -- negation -----------------------------------------------------------------------------------

_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|neither|failed|fail|fails|failing|unable|refused|refuses|refuse|"
    r"denied|denies|deny|cannot|can't|didn't|doesn't|don't|wasn't|weren't|isn't|aren't|hasn't|haven't|"
    r"hadn't|won't|couldn't)\b"
)
# "لا يزال" and "ما زال" mean "still": not negations.
_AR_STILL = re.compile(r"(?:^|\s)(?:لا\s+ي?زال|لا\s+تزال|ما\s+زال|لازال|مازال)\w*")
_AR_NEGATION = re.compile(r"(?:^|\s)(?:و|ف)?(?:لم|لن|لا|ليس|ليست|عدم|فشل\w*|رفض\w*|يرفض\w*|ترفض\w*|نفى|نفت)(?=\s|$)")


def is_negated(text: str) -> bool:
    """Whether a sentence or clause negates its claim (not, failed to, refused; لم، لا، فشل، رفض ...)."""
    folded = _AR_STILL.sub(" ", " " + normalize_arabic(text) + " ")
    return bool(_EN_NEGATION.search(text.lower()) or _AR_NEGATION.search(folded))


_EN_SUCCESS = re.compile(r"\b(?:succeed\w*|success\w*|managed|manage|able to|won|win|wins|captured|stormed)\b")
_AR_SUCCESS = re.compile(r"(?:^|\s)(?:و|ف)?(?:نجح\w*|تمكن\w*|استطاع\w*)")
_AR_FAILURE = re.compile(r"(?:^|\s)(?:و|ف)?(?:فشل\w*|اخفق\w*|لم\s+تتمكن|لم\s+يتمكن|لم\s+تنجح|لم\s+ينجح)")
_EN_FAILURE = re.compile(r"\b(?:fail\w*|unsuccessful\w*|unable|could not|couldn't)\b")


def reports_success(text: str) -> bool:
    """Whether a text says someone succeeded or managed to (succeeded, managed; نجح، تمكن)."""
    return bool(_EN_SUCCESS.search(text.lower()) or _AR_SUCCESS.search(" " + normalize_arabic(text)))


def reports_failure(text: str) -> bool:
    """Whether a text says someone failed (failed, unable; فشل، لم تتمكن)."""
    return bool(_EN_FAILURE.search(text.lower()) or _AR_FAILURE.search(" " + normalize_arabic(text)))


# -- what a claim is compared with ------------------------------------------------------------------

#: Words per window of a long sentence, and the step between windows.
WINDOW_WORDS, WINDOW_STEP = 12, 6
_WORD = re.compile(r"\S+")


def support_units(text: str, sentences: Sequence[Span] = ()) -> list[Span]:
    """The pieces of a passage a short sentence is compared with: its sentences, their ``،`` clauses
    and pairs of clauses, and overlapping 12-word windows. Offsets are relative to ``text``.

    A one-line answer sentence matches a clause of a 60-word news sentence far better than the
    whole sentence, across languages especially.
    """
    spans = list(sentences) or split_sentences(text) or [Span(0, len(text), text)]
    units: dict[tuple[int, int], Span] = {(u.start, u.end): u for u in spans}
    for sentence in spans:
        clauses = split_clauses(text, sentence.start, sentence.end)
        if len(clauses) > 1:
            pairs = [Span(a.start, b.end, text[a.start:b.end]) for a, b in zip(clauses, clauses[1:], strict=False)]
            for unit in clauses + pairs:
                units.setdefault((unit.start, unit.end), unit)
        words = list(_WORD.finditer(text, sentence.start, sentence.end))
        if len(words) > WINDOW_WORDS:
            for first in range(0, len(words) - WINDOW_WORDS + WINDOW_STEP, WINDOW_STEP):
                chosen = words[first:first + WINDOW_WORDS]
                start, end = chosen[0].start(), chosen[-1].end()
                units.setdefault((start, end), Span(start, end, text[start:end]))
    return list(units.values())


_PHRASE_STOP = re.compile(r"[،,.;:؛!?؟()\[\]«»\"]")


def number_phrases(text: str) -> list[tuple[frozenset[str], str]]:
    """Each number of a text with what it counts: up to three words after it, to the next
    punctuation or (English) function word. "84 من تنظيم الدولة" -> ({"84"}, "من تنظيم الدولة")."""
    words = text.split()
    phrases = []
    for index, word in enumerate(words):
        found = numbers_of(word)
        if not found or _PHRASE_STOP.search(word.rstrip("،,.;:؛!?؟")):
            continue
        tail: list[str] = []
        for following in words[index + 1:index + 6]:
            bare = following.strip("،,.;:؛!?؟\"'«»()")
            if not bare or (bare.lower() in EN_STOPWORDS and bare.lower() not in ("of", "the") and not bare.isupper()):
                break
            tail.append(bare)
            if _PHRASE_STOP.search(following[-1]) or sum(w.lower() not in ("of", "the") for w in tail) == 3:
                break
        if tail and not numbers_of(" ".join(tail)):
            phrases.append((frozenset(found), " ".join(tail)))
    return phrases


_HOW_MANY = re.compile(r"\bhow\s+(?:many|much)\s+(.+)", re.IGNORECASE)
_AR_HOW_MANY = re.compile(r"(?:^|\s)(?:و|ف)?(?:ب|ل)?كم\s+(?:عدد\s+)?(.+)")


def question_counted_phrase(question: str) -> str:
    """What a "how many" question counts ("How many civilians were killed?" -> "civilians";
    "كم عدد المدنيين الذين قتلوا؟" -> "المدنيين الذين قتلوا"), ``""`` for other questions.

    An answer that gives a bare number ("136", "IS says 800.") states what it counts only through
    the question, so its number is checked against this phrase.
    """
    text = MARKER.sub(" ", question).strip(" ?؟.!")
    match = _HOW_MANY.search(text) or _AR_HOW_MANY.search(text)
    if not match:
        return ""
    phrases = number_phrases(f"1 {match.group(1)}")
    return phrases[0][1] if phrases else ""


def _in_arabic(phrase: str) -> str:
    """A counted phrase with glossary acronyms in Arabic ("IS fighters" -> "تنظيم fighters")."""
    return " ".join(GLOSSARY[w.lower()][0] if w.isupper() and w.lower() in GLOSSARY else w for w in phrase.split())


# -- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Passage:
    source: Source
    facts: PassageFacts
    sentences: list[Span]
    units: list[Span]
    vectors: np.ndarray  # one row per unit
    numbers: list[tuple[frozenset[str], str]]
    number_vectors: np.ndarray
    tokens: frozenset[str]


@dataclass(frozen=True)
class _Analysis:
    """Everything about a passage that depends on its text alone."""

    facts: PassageFacts
    sentences: tuple[Span, ...]
    units: tuple[Span, ...]
    numbers: tuple[tuple[frozenset[str], str], ...]
    tokens: frozenset[str]


@lru_cache(maxsize=4096)
def _analyse(text: str, sentences: tuple[Span, ...]) -> _Analysis:
    """The facts, pieces and counted numbers of a passage; remembered, as passages come back
    question after question."""
    spans = tuple(sentences) or tuple(split_sentences(text)) or (Span(0, len(text), text),)
    return _Analysis(PassageFacts.of(text), spans, tuple(support_units(text, spans)), tuple(number_phrases(text)),
                     frozenset(content_cores(text)))


def _prepare(sources: Sequence[Source], embed: EmbedFn) -> dict[int, _Passage]:
    """Units and vectors of every source, embedding in one call what is not known yet."""
    plans = []
    wanted: list[str] = []
    for source in sources:
        analysis = _analyse(source.text, tuple(source.sentences))
        known = source.vectors is not None and len(source.vectors) == len(analysis.sentences)
        skip = len(analysis.sentences) if known else 0
        plans.append((source, analysis, known))
        wanted += [u.text for u in analysis.units[skip:]] + [phrase for _, phrase in analysis.numbers]
    unique = list(dict.fromkeys(wanted))
    matrix = embed(unique) if unique else np.zeros((0, 1), np.float32)
    row_of = {text: row for row, text in enumerate(unique)}
    prepared = {}
    for source, analysis, known in plans:
        skip = len(analysis.sentences) if known else 0
        rows = [matrix[row_of[u.text]] for u in analysis.units[skip:]]
        vectors = np.vstack([source.vectors] + ([np.stack(rows)] if rows else [])) if known else np.stack(rows)
        numbers = list(analysis.numbers)
        number_vectors = np.stack([matrix[row_of[phrase]] for _, phrase in numbers]) if numbers else np.zeros((0, 1))
        prepared[source.number] = _Passage(source, analysis.facts, list(analysis.sentences), list(analysis.units),
                                           vectors.astype(np.float32), numbers, number_vectors, analysis.tokens)
    return prepared


def verify_claims(claims: Sequence[Claim], sources: Sequence[Source], embed: EmbedFn,
                  settings: VerifySettings, question: str = "", reader: ReaderAnswer | None = None) -> list[Verdict]:
    """Check each sentence against the passages it cites (or, uncited, against all of them).

    Args:
        claims: The answer's sentences (:func:`split_claims`).
        sources: The numbered passages the LLM was given.
        embed: Unit-length vectors for texts (the passage side of the embedder); pass a cached
            one, as the same passages come back across questions.
        settings: Thresholds and mode.
        question: The question answered: a bare number ("136") counts what it asks about.
        reader: The trained reader's answer to the question over the same passages; every sentence
            must state it (:func:`reader_reason`). ``None`` (no reader) leaves that check out.

    Returns:
        One verdict per claim, in order.
    """
    if not claims:
        return []
    passages = _prepare(sources, embed)
    asked = _in_arabic(question_counted_phrase(question)) if question else ""
    phrases = list(dict.fromkeys([_in_arabic(p) for c in claims for _, p in number_phrases(c.text)]
                                 + ([asked] if asked else [])))
    vectors = embed([c.text for c in claims] + phrases)  # one call: each costs a model pass
    known = dict(zip(phrases, vectors[len(claims):], strict=True))

    def phrase_vectors(texts: list[str]) -> np.ndarray:
        return np.stack([known[t] for t in texts])

    verdicts = [_verdict(claim, vector, passages, settings, phrase_vectors, asked)
                for claim, vector in zip(claims, vectors[:len(claims)], strict=True)]
    return [_answers(v, question, reader, settings) for v in verdicts]


def _answers(verdict: Verdict, question: str, reader: ReaderAnswer | None, settings: VerifySettings) -> Verdict:
    """A supported verdict made unsupported when the sentence is not shown to answer the question:
    it adds nothing to the question (:func:`adds_to_question`) or fails :func:`reader_reason`."""
    if not verdict.supported:
        return verdict
    if question and not adds_to_question(verdict.claim.text, question):
        reason = "it only repeats the question's words"
    else:
        reason = reader_reason(verdict.claim.text, reader, settings) if reader is not None else ""
    if not reason:
        return verdict
    return replace(verdict, supported=False, citations=(), removed=verdict.removed + verdict.citations, quotes={},
                   reason=reason, repaired=False)


def reader_reason(text: str, reader: ReaderAnswer, settings: VerifySettings) -> str:
    """Why a sentence is not shown to answer the question by the reader's answer, ``""`` when it is.

    Words, numbers and names taken from a passage can still be put together wrongly: a day moved to
    another event, an agency given to the wrong side, who took whom hostage inverted. Similarity and
    fact checks pass such sentences, as every piece is in the passage. The trained reader, asked
    the same question over the same passages, says what in them answers it; a sentence that does
    not state that answer is not shown to answer the question, and the extractive answer, which
    quotes the reader's span, is shown instead. When the reader itself prefers no answer (margin
    below ``min_reader_margin``), no paraphrase is shown to be supported.
    """
    if reader.margin < settings.min_reader_margin:
        return (f"the reader finds no answer in the sources (margin {reader.margin:.2f} "
                f"< {settings.min_reader_margin:g})")
    if not reader.values:
        return ""
    stated = [i for i, value in enumerate(reader.values) if states_value(text, value, settings.min_answer_share)]
    if not stated:
        return f"it does not state the reader's answer «{' / '.join(reader.values)}»"
    if len(reader.values) > 1:
        # The sources disagree: a value without who gives it reads as the one answer ("800 escaped"
        # where one side says 80 and the other 800). A value whose speaker is not known cannot be
        # shown attributed; the extractive answer gives every value with its source instead.
        speakers = list(reader.speakers) + [""] * (len(reader.values) - len(reader.speakers))
        if not any(speakers[i] and states_value(text, speakers[i], settings.min_answer_share) for i in stated):
            who = " / ".join(f"{reader.values[i]} («{speakers[i] or 'not named'}»)" for i in stated)
            return f"the sources disagree and it does not say who gives {who}"
    return ""


def adds_to_question(text: str, question: str) -> bool:
    """Whether a sentence says anything its question does not: a content word, number or day
    beyond the question's.

    A reply that only gives the question's own words back ("the agency the source spoke to?" ->
    "the agency") names nothing that answers it, however true of the passage those words are.
    """
    asked_numbers, asked_days = numbers_of(question), set(weekdays_in(question))
    if numbers_of(text) - asked_numbers or set(weekdays_in(text)) - asked_days:
        return True
    return content_coverage(text, frozenset(content_cores(question))) < 1.0


def states_value(text: str, value: str, min_share: float = 0.75) -> bool:
    """Whether a sentence states an answer value, in its language or across languages.

    A value with numbers, days or months is stated when the sentence has all of them ("12 trucks"
    states «12 شاحنة»); otherwise when it has at least ``min_share`` of the value's words: same
    language by stem, across languages through the name skeletons and glossary that fact checks
    use ("Karim Haddad" states «كريم حداد»). A word no check can carry across counts as missing:
    an answer that cannot be shown stated is not.
    """
    numbers, days, months = numbers_of(value), set(weekdays_in(value)), months_of(value)
    if numbers or days or months:
        return (numbers <= numbers_of(text) and days <= set(weekdays_in(text))
                and months <= months_of(text))
    if detect_language(text) == detect_language(value):
        cores = content_cores(value)
        if not cores:
            return normalize_arabic(value).lower() in normalize_arabic(text).lower()
        own = frozenset(content_cores(text))
        # A short word keeps its clitic through stemming ("بحي"): try it without one, too.
        stated_cores = sum(_core_in(core, own) or any(
            core.startswith(prefix) and core[len(prefix):] in own for prefix in _AR_PREFIXES) for core in cores)
        return stated_cores / len(cores) >= min_share
    facts = PassageFacts.of(text)
    if detect_language(value) == "ar":
        words = [t for t in _AR_TOKEN.findall(normalize_arabic(value)) if t not in AR_STOPWORDS and len(t) > 1]
        # Short glossary words count only as written in capitals: "IS" is the organisation, "is" a verb.
        english = {re.sub(r"['’]s$", "", part).lower() for w in _LATIN_WORD.findall(text) for part in w.split("-")
                   if len(part) > 3 or part.isupper()}
        forms = [form for word in english for form in GLOSSARY.get(word, ())]
        form_words = {stem_arabic(part) for form in forms for part in form.split()}

        def stated(word: str) -> bool:
            return (facts.has_arabic_name(word) or stem_arabic(word) in form_words
                    or any(form in word for form in forms if len(form) >= 3))
    else:
        words = [w for w in _LATIN_WORD.findall(value) if w.lower() not in EN_STOPWORDS and len(w) > 1]
        stated = facts.has_latin_name
    if not words:
        return False
    return sum(stated(word) for word in words) / len(words) >= min_share


@dataclass(frozen=True)
class _Match:
    similarity: float
    unit: Span


def _best_unit(vector: np.ndarray, passage: _Passage) -> _Match:
    similarities = passage.vectors @ vector
    index = int(np.argmax(similarities))
    return _Match(float(similarities[index]), passage.units[index])


def _verdict(claim: Claim, vector: np.ndarray, passages: dict[int, _Passage], settings: VerifySettings,
             embed: EmbedFn, asked: str = "") -> Verdict:
    if not passages:
        return Verdict(claim, False, (), claim.cited, 0.0, reason="no sources")
    matches = {n: _best_unit(vector, p) for n, p in passages.items()}
    best_anywhere = max(m.similarity for m in matches.values())
    valid = [n for n in claim.cited if n in passages]
    invalid = tuple(n for n in claim.cited if n not in passages)
    if not valid:
        return _repair(claim, matches, best_anywhere, passages, settings, embed, invalid, asked)
    number = max(valid, key=lambda n: matches[n].similarity)
    similarity = matches[number].similarity
    gap = round(best_anywhere - similarity, 6)
    reason = _unsupported_reason(claim, valid, number, matches, best_anywhere, passages, settings, False, embed,
                                 asked)
    if reason:
        return Verdict(claim, False, (), invalid + tuple(valid), similarity, reason=reason, gap=gap)
    facts = ClaimFacts.of(claim.text)
    kept = tuple(n for n in valid if n == number or _contributes(n, matches[n].similarity, claim, facts, passages,
                                                                    settings))
    dropped = invalid + tuple(n for n in valid if n not in kept)
    quotes = {n: _quote(passages[n], matches[n].unit) for n in kept}
    return Verdict(claim, True, kept, dropped, similarity, quotes, gap=gap)


def _repair(claim: Claim, matches: dict[int, _Match], best_anywhere: float, passages: dict[int, _Passage],
            settings: VerifySettings, embed: EmbedFn, invalid: tuple[int, ...], asked: str = "") -> Verdict:
    """An uncited sentence (or one whose markers name no source) gets the most similar passage that
    passes every check with the stricter repair threshold; otherwise it is unsupported."""
    ranked = sorted(matches, key=lambda n: -matches[n].similarity)
    reason = ""
    for number in ranked:
        reason = _unsupported_reason(claim, [number], number, matches, best_anywhere, passages, settings, True,
                                     embed, asked)
        if not reason:
            quote = _quote(passages[number], matches[number].unit)
            return Verdict(claim, True, (number,), invalid, matches[number].similarity, {number: quote},
                           repaired=True, gap=round(best_anywhere - matches[number].similarity, 6))
        if reason.startswith(("similarity", "another source")):
            break  # the rest are less similar still
    first = ranked[0]
    return Verdict(claim, False, (), invalid, matches[first].similarity, reason=f"uncited; best source [{first}]: "
                   + _unsupported_reason(claim, [first], first, matches, best_anywhere, passages, settings, True,
                                         embed, asked), gap=0.0)


def _unsupported_reason(claim: Claim, cited: list[int], number: int, matches: dict[int, _Match],
                        best_anywhere: float, passages: dict[int, _Passage], settings: VerifySettings,
                        repaired: bool, embed: EmbedFn, asked: str = "") -> str:
    """Why the cited passages do not support the sentence, or ``""`` when they do. Cheapest checks first."""
    language = detect_language(claim.text)
    passage = passages[number]
    similarity = matches[number].similarity
    needed = settings.threshold(language, passage.facts.language) + (settings.repair_margin if repaired else 0.0)
    if similarity < needed:
        return f"similarity {similarity:.3f} to source [{number}] is below {needed:.3f}"
    if similarity < best_anywhere - settings.max_gap:
        # Only a source that could itself support the sentence makes the citation wrong: one that
        # is closer in wording but lacks its facts or words is not a better source.
        rivals = [n for n in passages if n not in cited and matches[n].similarity > similarity + settings.max_gap]
        for rival in sorted(rivals, key=lambda n: -matches[n].similarity):
            if not _content_reason(claim, language, [rival], rival, matches, passages, settings, embed, asked):
                return (f"another source supports it better than [{number}] "
                        f"([{rival}]: {matches[rival].similarity:.3f} vs {similarity:.3f})")
    return _content_reason(claim, language, cited, number, matches, passages, settings, embed, asked)


def _content_reason(claim: Claim, language: str, cited_numbers: list[int], number: int, matches: dict[int, _Match],
                    passages: dict[int, _Passage], settings: VerifySettings, embed: EmbedFn, asked: str = "") -> str:
    """The checks beyond similarity: facts, words (or events, across languages), negation, outcome, binding."""
    passage = passages[number]
    cited = [passages[n] for n in cited_numbers]
    missing = missing_facts(ClaimFacts.of(claim.text), [p.facts for p in cited], [p.facts for p in passages.values()])
    if missing:
        return f"{', '.join(missing)} not in the cited source{'s' if len(cited) > 1 else ''}"
    if language == passage.facts.language:
        tokens = frozenset().union(*(p.tokens for p in cited))
        coverage = content_coverage(claim.text, tokens)
        if coverage < settings.min_coverage:
            return f"only {coverage:.0%} of its words are in the cited source"
        complement = identity_complement(claim.text)
        if complement and content_coverage(complement, tokens) < 1.0:
            return f"«{complement}» not in the cited source{'s' if len(cited) > 1 else ''}"
        head = identity_head(claim.text)
        if head and content_coverage(head, tokens) < 1.0:
            return f"«{head}», what it identifies, is not in the cited source{'s' if len(cited) > 1 else ''}"
    else:
        absent = missing_events(claim.text, [p.facts.folded for p in cited])
        if absent:
            return f"{', '.join(absent)} not in the cited source{'s' if len(cited) > 1 else ''}"
    if is_negated(claim.text) != is_negated(matches[number].unit.text):
        return f"negation differs from source [{number}]: «{matches[number].unit.text}»"
    if _contradicts_outcome(claim.text, matches[number].unit, passage):
        return f"it reports success where source [{number}] reports failure"
    return _unbound_number(claim.text, passage, embed, settings, asked)


def _unbound_number(text: str, passage: _Passage, embed: EmbedFn, settings: VerifySettings, asked: str = "") -> str:
    """A number of the claim that its passage attaches to something else: "84 civilians" when the
    passage says 84 fighters and seven civilians, or "800 vehicles" when its 800 are fighters.
    Compares what the number counts in the claim (for a bare number, what the question ``asked``
    counts) with what each number counts in the passage; flags it when another number's fits
    clearly better (``binding_margin``) or its own fits too little (``binding_floor``)."""
    if not passage.numbers:
        return ""
    claimed = [(found, _in_arabic(phrase)) for found, phrase in number_phrases(text)]
    numbers = numbers_of(text)
    bare = numbers - {n for found, _ in claimed for n in found}
    if bare and asked:
        claimed.append((frozenset(bare), asked))
    elif asked and len(numbers) == 1:
        # The one number of the answer to "how many X" is read as a count of X ("136 people" answering
        # "how many civilians"): it must be the number the passage gives for X, not one near it.
        claimed.append((frozenset(numbers), asked))
    if not claimed:
        return ""
    several = len({n for found, _ in passage.numbers for n in found}) >= 2
    vectors = embed([phrase for _, phrase in claimed])
    for (found, phrase), vector in zip(claimed, vectors, strict=True):
        similarities = passage.number_vectors @ vector
        own = [(float(s), counted) for (numbers, counted), s in zip(passage.numbers, similarities, strict=True)
               if numbers & found]
        if not own:
            continue
        best = int(np.argmax(similarities))
        closest, counted = max(own)
        if several and float(similarities[best]) - closest > settings.binding_margin:
            return (f"its {', '.join(sorted(found))} {phrase!r} matches «{passage.numbers[best][1]}» "
                    f"({', '.join(sorted(passage.numbers[best][0]))}) in the source better")
        if closest < settings.binding_floor:
            return (f"its {', '.join(sorted(found))} {phrase!r} is not what the source counts with it "
                    f"(«{counted}», similarity {closest:.3f} < {settings.binding_floor})")
    return ""


def _contradicts_outcome(text: str, unit: Span, passage: _Passage) -> bool:
    """A sentence of success against a source sentence of failure ("stormed the prison" / "فشلت في الاقتحام")."""
    if not reports_success(text) or reports_failure(text):
        return False
    sentence = next((s for s in passage.sentences if s.start <= unit.start < s.end), unit)
    return reports_failure(sentence.text) and not reports_success(sentence.text)


def _contributes(number: int, similarity: float, claim: Claim, facts: ClaimFacts, passages: dict[int, _Passage],
                 settings: VerifySettings) -> bool:
    """A further cited source stays when it supports the sentence by itself or holds one of its facts."""
    passage = passages[number].facts
    if similarity >= settings.threshold(detect_language(claim.text), passage.language):
        return True
    return bool(facts.numbers & passage.numbers or facts.days & passage.days
                or any(passage.has_latin_name(n) for n in facts.latin_names)
                or any(passage.has_arabic_name(n) for n in facts.arabic_names))


def _quote(passage: _Passage, unit: Span) -> Span:
    """The sentence holding the best-matching unit, in source offsets."""
    sentence = next((s for s in passage.sentences if s.start <= unit.start < s.end), unit)
    start = passage.source.start
    return Span(start + sentence.start, start + sentence.end, sentence.text)


# -- words in common (same-language pairs) ----------------------------------------------------------

_AR_SUFFIXES = ("هما", "هم", "هن", "ها", "كم", "نا", "ات", "ون", "ين", "ان", "يه", "ه", "ي", "ا")


def _core(token: str) -> str:
    """A search token without Arabic clitic prefixes and common suffixes (at least three letters kept)."""
    if not _AR_TOKEN.fullmatch(token):
        return token
    token = stem_arabic(token)
    for _ in range(2):
        for suffix in _AR_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[:-len(suffix)]
                break
    return token


def content_cores(text: str) -> list[str]:
    """The content words of a text, stemmed (English) or stripped of affixes (Arabic); numbers left out."""
    return [_core(t) for t in tokenize(text) if not t.isdigit()]


def content_coverage(claim: str, passage_cores: frozenset[str]) -> float:
    """The share of the claim's content words that the passage has (a shared stem of three letters counts)."""
    cores = content_cores(claim)
    if not cores:
        return 1.0
    return sum(_core_in(core, passage_cores) for core in cores) / len(cores)


def _core_in(core: str, cores: frozenset[str]) -> bool:
    """Whether a content word is among ``cores`` (a shared stem of three letters counts)."""
    return core in cores or (len(core) >= 3 and any(core in c or c in core for c in cores if len(c) >= 3))


# -- rendering ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    """The verified answer text, its citations renumbered 1..m in order of first use.

    Attributes:
        text: The answer; every ``[k]`` in it maps to ``order[k - 1]``.
        order: Original source numbers, in their new order.
        quotes: For each original source number, the sentence quoted as its support.
        dropped: The sentences removed (or marked), with the reason.
    """

    text: str
    order: list[int]
    quotes: dict[int, Span]
    dropped: list[tuple[str, str]]


def render(verdicts: Sequence[Verdict], mode: str = "drop", unverified_mark: str = "(unverified)") -> Rendered:
    """Write the verified answer: supported sentences with renumbered markers; the rest dropped or marked."""
    order: list[int] = []
    quotes: dict[int, Span] = {}
    parts: list[str] = []
    dropped: list[tuple[str, str]] = []
    for verdict in verdicts:
        claim = verdict.claim
        if not verdict.supported:
            dropped.append((claim.text, verdict.reason))
            if mode == "mark":
                parts.extend([f"{_strip_markers(claim.raw)} {unverified_mark}", claim.separator])
            continue
        for number in verdict.citations:
            if number not in order:
                order.append(number)
            quotes.setdefault(number, verdict.quotes[number])
        parts.extend([_renumber(claim, verdict, order), claim.separator])
    text = "".join(parts).strip()
    return Rendered(text, order, quotes, dropped)


def _strip_markers(raw: str) -> str:
    return re.sub(r"\s+([.,!?؟،؛:])", r"\1", " ".join(MARKER.sub(" ", raw).split()))


def _renumber(claim: Claim, verdict: Verdict, order: list[int]) -> str:
    kept = set(verdict.citations)

    def replace(match: re.Match[str]) -> str:
        numbers = [order.index(n) + 1 for n in dict.fromkeys(marker_numbers(match.group(1))) if n in kept]
        return "".join(f"[{n}]" for n in numbers)

    text = MARKER.sub(replace, claim.raw)
    text = re.sub(r"[ \t]+([.,!?؟،؛:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    if verdict.repaired:
        text = _append_marker(text, f"[{order.index(verdict.citations[0]) + 1}]")
    return text


def _append_marker(text: str, marker: str) -> str:
    """Put a marker before the sentence's final punctuation: "was 136." -> "was 136 [1]."."""
    match = re.search(r"[.!?؟؛]+[\"'»”)\]]*$", text)
    if match:
        return f"{text[:match.start()].rstrip()} {marker}{text[match.start():]}"
    return f"{text} {marker}"
