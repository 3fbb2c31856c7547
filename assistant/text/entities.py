"""Arabic entities that have an English name of their own: organisations, places, titles, acronyms.

«قسد» is "SDF", not "Qsd"; «التحالف الدولي» is "the international coalition". The table is a data
file (``assistant/data/entities.tsv``), which users extend with their own (``ASSISTANT_ENTITIES_FILE``:
their lines override the shipped ones). Matching is on normalised Arabic, the entity's first word
with its clitics stripped («لقوات سوريا الديمقراطية», «بالحسكة»). Pure but for :func:`load_entities`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .normalize import normalize_arabic

#: The shipped table.
SHIPPED_ENTITIES = Path(__file__).resolve().parent.parent / "data" / "entities.tsv"
#: Arab towns and cities from GeoNames (benchmarks/build_places.py): a gazetteer, consulted for names.
SHIPPED_PLACES = Path(__file__).resolve().parent.parent / "data" / "places.tsv"
#: What an entity can be, and how an English reader is told what an Arabic phrase of that kind is.
KINDS = {"person": "a name", "place": "a place", "organisation": "an organisation", "title": "a title",
         "group": "a group"}
#: Proclitics a word of running text may carry before an entity, and what each adds in English.
CLITICS = {"وال": ("and", "ال"), "بال": ("in", "ال"), "فال": ("and", "ال"), "كال": ("like", "ال"),
           "لل": ("of", "ال"), "و": ("and", ""), "ب": ("in", ""), "ل": ("of", ""), "ف": ("and", ""),
           "ك": ("like", "")}
_PUNCTUATION = "،,.؛;:()\"'«»!?؟[]{}"
_ARABIC = re.compile(r"[\u0621-\u064a]")


class EntityFileError(ConfigError):
    """A line of an entity file cannot be read."""


@dataclass(frozen=True)
class Entity:
    """An Arabic entity with its English name.

    Attributes:
        arabic: As written in the table.
        english: Its usual English name ("SDF", "the international coalition").
        kind: One of :data:`KINDS`.
    """

    arabic: str
    english: str
    kind: str


@dataclass(frozen=True)
class EntityMatch:
    """A run of words of a text that names an entity.

    Attributes:
        start: Index of its first word.
        end: Index after its last word.
        entity: The entity.
        clitic: The English of a proclitic its first word carried ("of" for «لقوات…»), or ``""``.
    """

    start: int
    end: int
    entity: Entity
    clitic: str = ""


def entity_key(text: str) -> tuple[str, ...]:
    """The words of an entity as matched: normalised, punctuation gone."""
    return tuple(w for w in (normalize_arabic(t).strip(_PUNCTUATION) for t in text.split()) if w)


@dataclass(frozen=True)
class EntityTable:
    """Normalised word sequences -> entities."""

    entities: Mapping[tuple[str, ...], Entity]

    def english_names(self) -> dict[str, str]:
        """English name (lower case, without a leading "the") -> the Arabic of its first entity: the
        mirror, for an Arabic reader of an English document."""
        names: dict[str, str] = {}
        for entity in self.entities.values():
            key = entity.english.lower()
            names.setdefault(key[4:] if key.startswith("the ") else key, entity.arabic)
        return names

    @property
    def longest(self) -> int:
        return max((len(k) for k in self.entities), default=0)

    def lookup(self, text: str) -> Entity | None:
        """The entity ``text`` names as a whole (clitics on its first word allowed), or ``None``."""
        words = text.split()
        found = self.matches(words)
        return found[0].entity if len(found) == 1 and found[0].start == 0 and found[0].end == len(words) else None

    def matches(self, words: list[str]) -> list[EntityMatch]:
        """The entities in a text's words, longest first at each position, not overlapping."""
        keys = [normalize_arabic(w).strip(_PUNCTUATION) for w in words]
        found: list[EntityMatch] = []
        i = 0
        while i < len(keys):
            match = self._match_at(keys, i)
            if match is None:
                i += 1
                continue
            found.append(match)
            i = match.end
        return found

    def _match_at(self, keys: list[str], i: int) -> EntityMatch | None:
        if not keys[i] or not _ARABIC.search(keys[i]):
            return None
        # A span cut after a clitic keeps no article («تحالف الدولي» of «للتحالف الدولي»).
        firsts = [(keys[i], ""), ("ال" + keys[i], "")]
        for clitic, (english, article) in CLITICS.items():
            rest = keys[i][len(clitic):]
            if keys[i].startswith(clitic) and len(rest) >= 2:
                firsts.append((article + rest, english))
        for length in range(min(self.longest, len(keys) - i), 0, -1):
            tail = tuple(keys[i + 1:i + length])
            for first, clitic in firsts:
                entity = self.entities.get((first, *tail))
                if entity is not None:
                    return EntityMatch(i, i + length, entity, clitic)
        return None


def parse_entities(lines: Iterable[str], source: str) -> dict[tuple[str, ...], Entity]:
    """``arabic<TAB>english<TAB>kind`` lines (``#`` comments and blank lines skipped) as a table.

    Raises:
        EntityFileError: A line is malformed; the message names ``source`` and the line number.
    """
    table: dict[tuple[str, ...], Entity] = {}
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n").rstrip("\r")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in text.split("\t")]
        where = f"{source}, line {number}"
        if len(parts) != 3 or not all(parts):
            raise EntityFileError(f"{where}: expected three tab-separated fields, arabic<TAB>english<TAB>kind, "
                                  f"got {text[:80]!r}. Fix the line or delete it.")
        arabic, english, kind = parts
        if kind not in KINDS:
            raise EntityFileError(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
        if not _ARABIC.search(normalize_arabic(arabic)):
            raise EntityFileError(f"{where}: the first field {arabic!r} has no Arabic letters; "
                                  "write the Arabic spelling first, then the English name.")
        table[entity_key(arabic)] = Entity(arabic, english, kind)
    return table


def load_entities(extra: Path | str | None = None, shipped: Path = SHIPPED_ENTITIES) -> EntityTable:
    """The shipped table, with the lines of the user's ``extra`` file over it.

    Raises:
        EntityFileError: ``extra`` is missing, unreadable or has a malformed line.
    """
    table = parse_entities(shipped.read_text(encoding="utf-8").splitlines(), str(shipped))
    if extra:
        path = Path(extra).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise EntityFileError(f"Cannot read the entity file {path} ({error}); set ASSISTANT_ENTITIES_FILE to "
                                  "a UTF-8 file of arabic<TAB>english<TAB>kind lines, or unset it.") from None
        table.update(parse_entities(text.splitlines(), str(path)))
    return EntityTable(table)


def load_places(shipped: Path = SHIPPED_PLACES) -> EntityTable:
    """The gazetteer of Arab towns and cities; an empty table when the file is not there."""
    if not shipped.is_file():
        return EntityTable({})
    return EntityTable(parse_entities(shipped.read_text(encoding="utf-8").splitlines(), str(shipped)))
