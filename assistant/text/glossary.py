"""An English <-> Arabic word glossary: BM25 and sentence overlap for a question on text in the other language.

BM25 matches nothing across languages (see docs/measurements.md), and the
packaged embedders are the only cross-lingual signal. A word glossary gives the lexical side a say
again: each English search token of the question is looked up and its Arabic translations are
matched against Arabic text; an Arabic question's words are looked up backwards for English text.
The glossary is FreeDict's English-Arabic and Arabic-English dictionaries (Arabeyes word lists,
GPL-2+), which Debian packages as ``dict-freedict-eng-ara`` and ``dict-freedict-ara-eng`` (the
Makefile installs them). No translation model installs offline.

It lifts hit@1 and hit@5 for questions in either language on text in the other (figures in
docs/measurements.md).

The dictd format (a tab-separated index of headword, base64 offset, base64 length into a gzip
file) is read here: the Python readers on PyPI (pyglossary and the like) pull in far more than
these twenty lines.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .normalize import fold_suffix, tokenize

ENGLISH_ARABIC = "freedict-eng-ara"
ARABIC_ENGLISH = "freedict-ara-eng"
_BASE64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_PRONUNCIATION = re.compile(r"\s*/[^/]*/\s*$")
_NUMBERING = re.compile(r"^\d+\.\s*")


@dataclass(frozen=True)
class Glossary:
    """English search token -> the folded Arabic search tokens it translates to, and back."""

    words: Mapping[str, frozenset[str]]

    @functools.cached_property
    def arabic(self) -> dict[str, frozenset[str]]:
        """Folded Arabic token -> the English search tokens it translates (``words`` read backwards)."""
        backwards: dict[str, set[str]] = {}
        for english, arabic in self.words.items():
            for token in arabic:
                backwards.setdefault(token, set()).add(english)
        return {token: frozenset(english) for token, english in backwards.items()}

    def lookup(self, token: str) -> frozenset[str]:
        """A search token's translations: Arabic ones (folded) for an English token, English ones
        for an Arabic token."""
        if token.isascii():
            return self.words.get(token, frozenset())
        return self.arabic.get(fold_suffix(token), frozenset())

    def translate(self, tokens: list[str], vocabulary: set[str] | None = None) -> tuple[list[str], float]:
        """The translations of a question's tokens, and the share of tokens translated. Pure.

        Tokens are those of :func:`assistant.text.tokenize` (an English token is a Snowball stem);
        Arabic translations are folded with :func:`assistant.text.fold_suffix`, as Arabic text must
        be to be compared with them. With a ``vocabulary`` only translations in it count: an
        English question on Arabic text gets Arabic words, an Arabic question on English text
        English ones, and a question in the text's own language nothing.
        """
        found: dict[str, None] = {}  # each translation once: a word asked twice does not count double
        translated = 0
        for token in tokens:
            other = self.lookup(token)
            if vocabulary is not None:
                other = other & vocabulary
            if other:
                translated += 1
                found.update(dict.fromkeys(sorted(other)))
        return list(found), translated / len(tokens) if tokens else 0.0

    def __len__(self) -> int:
        return len(self.words)


def folded_tokens(text: str) -> list[str]:
    """Search tokens with one Arabic ending folded: what glossary translations are matched against."""
    return [fold_suffix(t) for t in tokenize(text)]


def _decode(number: str) -> int:
    value = 0
    for char in number:
        value = value * 64 + _BASE64[char]
    return value


def dictd_entries(index: str, data: bytes) -> Iterator[tuple[str, list[str]]]:
    """``(headword, translations)`` of a dictd dictionary: its ``.index`` text, its uncompressed data. Pure.

    FreeDict entries read "headword /pronunciation/" then one translation per line, numbered when
    there are several. The ``00-database-*`` entries are the dictionary's own description.
    """
    for line in index.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[0].startswith("00database") or parts[0].startswith("00-database"):
            continue
        start, length = _decode(parts[1]), _decode(parts[2])
        lines = data[start:start + length].decode("utf-8", errors="replace").strip().splitlines()
        if not lines:
            continue
        headword = _PRONUNCIATION.sub("", lines[0]).strip()
        translations = [_NUMBERING.sub("", line).strip() for line in lines[1:]]
        yield headword, [t for t in translations if t]


def build_glossary(english_arabic: Iterator[tuple[str, list[str]]],
                   arabic_english: Iterator[tuple[str, list[str]]]) -> Glossary:
    """A glossary from both dictionaries' entries. Pure.

    English-Arabic gives one or two translations per English word; Arabic-English, read backwards,
    adds the Arabic words whose translation is that one English word. Multi-word English headwords
    are left out: a question's tokens are looked up one at a time.
    """
    words: dict[str, set[str]] = {}

    def add(english: str, arabic: list[str]) -> None:
        english_tokens = tokenize(english)
        arabic_tokens = {fold_suffix(t) for t in arabic if not t.isascii()}
        if len(english_tokens) == 1 and arabic_tokens:
            words.setdefault(english_tokens[0], set()).update(arabic_tokens)

    for headword, translations in english_arabic:
        if " " not in headword.strip():
            for translation in translations:
                add(headword, tokenize(translation))
    for headword, translations in arabic_english:
        arabic = tokenize(headword)
        if len(arabic) == 1:
            for translation in translations:
                if " " not in translation.strip():
                    add(translation, arabic)
    return Glossary({english: frozenset(arabic) for english, arabic in words.items()})


def _read(folder: Path, name: str) -> list[tuple[str, list[str]]]:
    index = (folder / f"{name}.index").read_text(encoding="utf-8")
    with gzip.open(folder / f"{name}.dict.dz") as handle:
        data = handle.read()
    return list(dictd_entries(index, data))


def load_glossary(folder: Path, cache_dir: Path | None = None) -> Glossary | None:
    """The glossary from FreeDict's dictd files in ``folder``, or ``None`` when they are not there.

    Missing files turn the English-question bridge off (retrieval then works as without it);
    ``make install`` installs them. Building it tokenises every entry, which takes seconds, so with a
    ``cache_dir`` the result is kept there as JSON, keyed by the files' sizes and times.
    """
    files = [folder / f"{name}.{ext}" for name in (ENGLISH_ARABIC, ARABIC_ENGLISH) for ext in ("index", "dict.dz")]
    if not files[0].is_file() or not files[1].is_file():
        return None
    present = [f for f in files if f.is_file()]
    key = hashlib.sha256(repr([(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in present]).encode())
    cached = cache_dir / f"glossary-{key.hexdigest()[:16]}.json" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        try:
            words = json.loads(cached.read_text(encoding="utf-8"))
            return Glossary({english: frozenset(arabic) for english, arabic in words.items()})
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    reverse = _read(folder, ARABIC_ENGLISH) if (folder / f"{ARABIC_ENGLISH}.index").is_file() else []
    glossary = build_glossary(iter(_read(folder, ENGLISH_ARABIC)), iter(reverse))
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(".tmp")
            temporary.write_text(json.dumps({k: sorted(v) for k, v in glossary.words.items()}, ensure_ascii=False),
                                 encoding="utf-8")
            temporary.replace(cached)
        except OSError:
            pass  # a read-only cache folder only costs the rebuild next time
    return glossary


@dataclass(frozen=True)
class WordGlosses:
    """Whole-word glosses from the same dictionaries, for showing a reader (not for search).

    :class:`Glossary` maps search tokens (stems) for retrieval; a short answer rendered for a
    reader of the other language needs words as written: Arabic headword (normalised) -> its first
    English translation, English headword (lower case) -> its first Arabic one.
    """

    arabic_english: Mapping[str, str]
    english_arabic: Mapping[str, str]

    def english(self, word: str) -> str:
        """An Arabic word's first English translation, trying it without clitics too; ``""`` if none."""
        from .normalize import normalize_arabic

        folded = normalize_arabic(word)
        for candidate in (folded, *(folded[len(p):] for p in ("وال", "بال", "لل", "ال", "و", "ب", "ل")
                                     if folded.startswith(p) and len(folded) - len(p) >= 3)):
            for form in (candidate, "ال" + candidate):
                if form in self.arabic_english:
                    return self.arabic_english[form]
        return ""

    def arabic(self, word: str) -> str:
        """An English word's first Arabic translation; ``""`` if none."""
        return self.english_arabic.get(word.lower(), "")


def build_word_glosses(english_arabic: Iterator[tuple[str, list[str]]],
                       arabic_english: Iterator[tuple[str, list[str]]]) -> WordGlosses:
    """Single-word entries of both dictionaries, first translation kept. Pure."""
    from .normalize import normalize_arabic

    to_arabic: dict[str, str] = {}
    back: dict[str, set[str]] = {}
    for headword, translations in english_arabic:
        head = headword.strip().lower()
        if " " in head or not translations:
            continue
        back.setdefault(head, set()).update(normalize_arabic(t.strip()) for t in translations)
        if head not in to_arabic and len(translations[0].split()) <= 2:
            to_arabic[head] = translations[0].split("،")[0].strip()
    to_english: dict[str, str] = {}
    for headword, translations in arabic_english:
        head = normalize_arabic(headword.strip())
        options = [t.split(",")[0].strip().lower() for t in translations]
        if " " in head or not options or head in to_english:
            continue
        # FreeDict lists translations in no order of use ("سجن": durance before prison); prefer one
        # the English-Arabic side translates back to the same word.
        to_english[head] = next((o for o in options if head in back.get(o, ())), options[0])
    return WordGlosses(to_english, to_arabic)


def load_word_glosses(folder: Path) -> WordGlosses | None:
    """:class:`WordGlosses` from FreeDict's dictd files in ``folder``, or ``None`` when they are not there."""
    if not (folder / f"{ENGLISH_ARABIC}.index").is_file() or not (folder / f"{ARABIC_ENGLISH}.index").is_file():
        return None
    return build_word_glosses(iter(_read(folder, ENGLISH_ARABIC)), iter(_read(folder, ARABIC_ENGLISH)))
