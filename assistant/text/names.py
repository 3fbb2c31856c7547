"""Arabic names in the spelling the English press uses: known spellings first, then the article. Pure.

Three layers render one Arabic word of a name, each used only where the one before has nothing:

1. the most frequent known spelling of a known form («محمد» -> Mohammed, «خالد» -> Khaled), read
   from public name pairs whose noisy alignments were filtered out (:func:`plausible_pair`);
2. the article split off: «الحسكة» is looked up as «حسكة» and written "al-" + its spelling, or the
   article dropped where the press drops it (places it names without one);
3. a small character model for forms never seen (:mod:`assistant.models.transliterator`), passed in
   as a plain callable so this module stays pure.

The pairs' files and the skeleton filter are here too, so training, the shipped table and the
measurements read the same data the same way.
"""

from __future__ import annotations

import difflib
import gzip
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: Harakat, tanween, shadda, sukun, dagger alef, Quranic marks; and tatweel.
_DIACRITICS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
#: Letters of Persian, Urdu and Kurdish written in Arabic script -> the Arabic letter a reader of
#: Arabic would take them for (the model never saw them).
_OTHER_SCRIPTS = str.maketrans({
    "پ": "ب", "چ": "ج", "ژ": "ز", "گ": "غ", "ک": "ك", "ی": "ي", "ۍ": "ي", "ې": "ي", "ہ": "ه", "ە": "ه",
    "ھ": "ه", "ڤ": "ف", "ڨ": "ق", "ٹ": "ت", "ڈ": "د", "ڑ": "ر", "ں": "ن", "ے": "ي", "ۆ": "و", "ۇ": "و",
    "ێ": "ي", "ڵ": "ل", "ڕ": "ر", "ٱ": "ا",
})
#: The Arabic letters a name form may hold once folded (hamza forms kept: they say which vowel).
ARABIC_LETTERS = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي"
_NOT_ARABIC_LETTER = re.compile(f"[^{ARABIC_LETTERS}]")
_LATIN = re.compile(r"^[a-z][a-z'\-]*$")

# Consonant classes of the skeleton filter: letters the press writes alike share a class.
_AR_SKELETON = {
    "ب": "B", "ت": "T", "ط": "T", "ث": "T", "ج": "G", "ح": "H", "ه": "H", "خ": "K", "د": "D", "ذ": "D",
    "ض": "D", "ر": "R", "ز": "Z", "ظ": "Z", "س": "S", "ص": "S", "ش": "S", "غ": "G", "ف": "F", "ق": "K",
    "ك": "K", "ل": "L", "م": "M", "ن": "N",
}
_EN_DIGRAPHS = (("tch", "S"), ("sch", "S"), ("sh", "S"), ("ch", "S"), ("kh", "K"), ("gh", "G"), ("th", "T"),
                ("dh", "D"), ("ph", "F"), ("ck", "K"), ("dj", "G"), ("zh", "Z"))
_EN_SKELETON = {
    "b": "B", "p": "B", "t": "T", "j": "G", "g": "G", "h": "H", "k": "K", "q": "K", "c": "K", "d": "D",
    "r": "R", "z": "Z", "s": "S", "x": "KS", "f": "F", "v": "F", "l": "L", "m": "M", "n": "N",
}
#: A pair is kept when its consonant skeletons agree at least this much (difflib ratio).
MIN_SKELETON_AGREEMENT = 0.6


def fold_name(word: str) -> str:
    """An Arabic word as a name form: NFC, diacritics and tatweel gone, other scripts' letters mapped
    to Arabic ones, anything else dropped ("مُحَمَّد" -> "محمد", "پرویز" -> "برويز")."""
    text = unicodedata.normalize("NFC", word)
    text = _DIACRITICS.sub("", text).translate(_OTHER_SCRIPTS)
    return _NOT_ARABIC_LETTER.sub("", text)


def fold_latin(word: str) -> str:
    """An English spelling as compared: accents dropped, lower case ("Limberský" -> "limbersky")."""
    text = unicodedata.normalize("NFKD", word)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()


def loose_form(form: str) -> str:
    """A folded form with its spelling variants unified (أ/إ/آ -> ا, ة -> ه, ى -> ي): the key a
    document's spelling is looked up by when its exact form is not known."""
    return form.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"}))


def skeleton_arabic(form: str) -> str:
    """The consonant classes of an Arabic form, repeats collapsed ("محمد" -> "MHMD")."""
    return _collapse(_AR_SKELETON.get(c, "") for c in form)


def skeleton_latin(word: str) -> str:
    """The consonant classes of an English spelling, repeats collapsed ("mohammed" -> "MHMD")."""
    text = re.sub(r"c(?=[eiy])", "s", fold_latin(word))
    for digraph, cls in _EN_DIGRAPHS:
        text = text.replace(digraph, cls)
    return _collapse(c if c.isupper() else _EN_SKELETON.get(c, "") for c in text)


def _collapse(classes: Iterable[str]) -> str:
    out: list[str] = []
    for cls in "".join(classes):
        if not out or out[-1] != cls:
            out.append(cls)
    return "".join(out)


def plausible_pair(form: str, english: str) -> bool:
    """Whether an Arabic form and an English spelling can be the same name: their consonant skeletons
    agree (misaligned pairs such as «تاوانا» ~ "rape" are not)."""
    a, e = skeleton_arabic(form), skeleton_latin(english)
    if not a and not e:
        return True
    return difflib.SequenceMatcher(None, a, e, autojunk=False).ratio() >= MIN_SKELETON_AGREEMENT


@dataclass(frozen=True)
class NamePair:
    """One Arabic form with one English spelling, seen ``count`` times in ``source``."""

    form: str
    english: str
    count: int
    source: str


def read_wikidata(path: Path) -> Iterator[NamePair]:
    """``english<TAB>a r a b i c<TAB>count`` lines (the Wikidata person tokens)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].strip().isdigit():
            yield from _pair(parts[1].replace(" ", ""), parts[0], int(parts[2]), "wikidata")


def read_google(path: Path) -> Iterator[NamePair]:
    """``arabic<TAB>english`` lines (Google's Wikipedia transliterations)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            yield from _pair(parts[0], parts[1], 1, "google")


def read_anetac(path: Path) -> Iterator[NamePair]:
    """``TYPE english words arabic words`` lines (ANETAC), paired word by word where the counts agree.
    For training and measuring only: its licence does not allow shipping it."""
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split()[1:]
        latin = [w for w in words if not fold_name(w)]
        arabic = [w for w in words if fold_name(w)]
        if latin and len(latin) == len(arabic):
            for e, a in zip(latin, arabic, strict=True):
                yield from _pair(a, e, 1, "anetac")


def _pair(arabic: str, english: str, count: int, source: str) -> Iterator[NamePair]:
    form, latin = fold_name(arabic), fold_latin(english)
    if len(form) >= 2 and form == _DIACRITICS.sub("", arabic.strip()) and _LATIN.match(latin):
        yield NamePair(form, latin, count, source)


def read_pairs(folder: Path, sources: Iterable[str] = ("wikidata", "google", "anetac")) -> list[NamePair]:
    """Every pair of the named sources in ``folder`` (../shared/data/translit), unfiltered."""
    readers = {"wikidata": (read_wikidata, "wikidata-person-tokens.tsv"), "google": (read_google, "google-ar2en.txt"),
               "anetac": (read_anetac, "anetac-named-entities.txt")}
    pairs: list[NamePair] = []
    for source in sources:
        reader, name = readers[source]
        pairs.extend(reader(folder / name))
    return pairs


def spelling_counts(pairs: Iterable[NamePair]) -> dict[str, Counter[str]]:
    """Form -> its plausible English spellings with their counts (implausible pairs dropped)."""
    table: dict[str, Counter[str]] = {}
    for pair in pairs:
        if plausible_pair(pair.form, pair.english):
            table.setdefault(pair.form, Counter())[pair.english] += pair.count
    return table


def pair_weight(pair: NamePair) -> float:
    """How much a pair counts in training: its frequency on a log scale, native names (Google's
    Wikipedia pairs) up-weighted over the mostly foreign Wikidata and ANETAC names."""
    return (1.0 + math.log(pair.count)) * (3.0 if pair.source == "google" else 1.0)


@dataclass(frozen=True)
class KnownSpellings:
    """The most frequent known spelling of each known form (layer 1), looked up exactly, then loosely."""

    spellings: Mapping[str, str]
    loose: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts: Mapping[str, Counter[str]]) -> KnownSpellings:
        """The most frequent spelling of each form; between equally frequent ones, the one that writes
        «غ» «خ» «ش» as the press does (gh, kh, sh: "baghdady" before "bagdadi")."""
        best = {form: _most_frequent(form, spellings) for form, spellings in counts.items() if spellings}
        loose_counts: dict[str, Counter[str]] = {}
        for form, spellings in counts.items():
            loose_counts.setdefault(loose_form(form), Counter()).update(spellings)
        loose = {form: _most_frequent(form, spellings) for form, spellings in loose_counts.items() if spellings}
        return cls(best, loose)

    @classmethod
    def read(cls, path: Path) -> KnownSpellings:
        """The shipped table: gzip'd ``form<TAB>spelling<TAB>count`` lines (see :meth:`write`)."""
        counts: dict[str, Counter[str]] = {}
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                form, english, count = line.rstrip("\n").split("\t")
                counts.setdefault(form, Counter())[english] += int(count)
        return cls.from_counts(counts)

    @staticmethod
    def write(counts: Mapping[str, Counter[str]], path: Path) -> None:
        """Each form's spellings, most frequent first, as the gzip'd table :meth:`read` reads."""
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
            for form in sorted(counts):
                for english, count in counts[form].most_common():
                    out.write(f"{form}\t{english}\t{count}\n")

    def get(self, form: str) -> str | None:
        """The known spelling of a folded form, or ``None``."""
        return self.spellings.get(form) or self.loose.get(loose_form(form))


_PRESS_DIGRAPHS = {"غ": "gh", "خ": "kh", "ش": "sh", "ث": "th"}


def _most_frequent(form: str, spellings: Counter[str]) -> str:
    def rank(spelling: str) -> tuple[int, int]:
        return spellings[spelling], sum(d in spelling for c, d in _PRESS_DIGRAPHS.items() if c in form)

    return max(spellings, key=rank)


#: A transliterator for unseen forms: a folded Arabic form -> a lower-case spelling ("" when unsure).
Guesser = Callable[[str], str]


#: First words that make one name with the word after them, as the press writes it ("Abdullah", "Abdel Rahman").
_COMPOUND_FIRST = ("عبد",)


@dataclass(frozen=True)
class NameRenderer:
    """Renders Arabic name words as the English press writes them (layers 1-3 above).

    Attributes:
        known: The known spellings (layer 1).
        guess: The character model for unseen forms (layer 3), or ``None`` for a plain letter table.
    """

    known: KnownSpellings
    guess: Guesser | None = None

    def word(self, word: str, place: bool = False) -> str:
        """One Arabic word as the press writes it, capitalised ("مظلوم" -> "Mazloum", "البغدادي" ->
        "al-Baghdadi"). ``place``: the article is dropped, as the press writes places ("الرقة" -> "Raqqa")."""
        form = fold_name(word)
        if not form:
            return word if word.isascii() else ""
        if len(form) > 40:  # no name is that long: a letter table, not the model, for runaway input
            return _capitalise(letter_table(form[:40]))
        if form.startswith("ال") and len(form) > 3:
            bare = form[2:]
            inner = self.known.get(bare)
            if inner is None and not place:
                whole = self.known.get(form)
                if whole is not None:
                    return _capitalise(_article(whole))
            inner = inner or self._guess(bare)
            return _capitalise(inner) if place else "al-" + _capitalise(inner)
        return _capitalise(self.known.get(form) or self._guess(form))

    def words(self, text: str, place: bool = False) -> str:
        """Every word of ``text`` rendered with :meth:`word`, joined by spaces ("مظلوم عبدي" -> "Mazloum
        Abdi"); «عبد» and the word after it as one name where that form is known ("Abdullah")."""
        tokens = text.split()
        out: list[str] = []
        i = 0
        while i < len(tokens):
            first = fold_name(tokens[i])
            if first in _COMPOUND_FIRST and i + 1 < len(tokens):
                second = fold_name(tokens[i + 1])
                joined = self.known.get(first + second)
                if not joined and second == "الله":
                    joined = "abdullah"
                elif not joined and second.startswith("ال") and len(second) > 3:
                    joined = "abdul " + _capitalise(self.known.get(second[2:]) or self._guess(second[2:]))
                if joined:
                    out.append(_capitalise(joined))
                    i += 2
                    continue
            rendered = self.word(tokens[i], place)
            if rendered:
                out.append(rendered)
            i += 1
        return " ".join(out)

    def _guess(self, form: str) -> str:
        guessed = self.guess(form) if self.guess else ""
        return guessed or letter_table(form)


def _article(spelling: str) -> str:
    """A known spelling of a form with the article, the article as the press writes it ("alsharif" -> "al-sharif")."""
    for article in ("al-", "el-", "al ", "el "):
        if spelling.startswith(article):
            return "al-" + spelling[len(article):]
    return spelling


def _capitalise(spelling: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in spelling.split("-")) if spelling else spelling


_LETTERS = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ء": "", "ؤ": "u", "ئ": "i", "ب": "b", "ت": "t", "ث": "th", "ج": "j",
    "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d",
    "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n",
    "ه": "h", "و": "w", "ي": "y", "ى": "a", "ة": "a",
}


def letter_table(form: str) -> str:
    """A plain romanisation of a folded form, lower case: the fallback when no model is installed
    (consonants as in ALA-LC without diacritics, long vowels as a/u/i)."""
    out = []
    for i, letter in enumerate(form):
        latin = _LETTERS.get(letter, "")
        between = 0 < i < len(form) - 1
        if letter == "و" and between:
            latin = "ou" if i + 1 < len(form) and form[i + 1] in "ماةه" else "u"
        elif letter == "ي" and (between or i == len(form) - 1 and i > 0):
            latin = "i"
        elif letter == "ع":
            latin = "a" if i == 0 else ""
        out.append(latin)
    return "".join(out)
