"""A short answer for a reader of the other language: what can be rendered honestly, and nothing more.

No translation model installs offline here (see ../shared/MODELS.md), so an Arabic span is rendered
for an English reader from parts that can be trusted, each word by the most faithful means available:

- entities with an English name of their own, from a table (:mod:`assistant.text.entities`):
  «قسد» -> SDF, «التحالف الدولي» -> the international coalition, «القائد العام» -> commander-in-chief;
- numbers as digits (Arabic-Indic digits and number words: «سبعة» -> 7); weekdays and months by name;
- names as the English press spells them (:mod:`assistant.text.names`: known spellings, the article,
  a small character model for unseen forms): «مظلوم عبدي» -> Mazloum Abdi;
- at most two other words glossed through FreeDict's dictionaries (marked as a gloss).

An answer that needs more glosses than that is not glossed into a word salad: it is shown in
Arabic, labelled in English with what it is ("a phrase (Arabic)", "an organisation"). The original
span is always beside the rendering, bidi-isolated (U+2068 … U+2069; ``<bdi>`` in HTML) so that the
answer stays one unbroken line; a rendering that equals its span is not repeated ("80", not "80 («80»)").
An English span for an Arabic reader gets the mirror: digits, Arabic weekday and month names,
entities and glossary words; names stay in Latin letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...text.entities import KINDS, EntityMatch, EntityTable
from ...text.glossary import WordGlosses
from ...text.lexicon import MONTHS, NEWS_ADJECTIVES, NEWS_SENSES, WEEKDAYS
from ...text.names import KnownSpellings, NameRenderer, fold_name
from ...text.normalize import day_name, detect_language, normalize_arabic, numbers_in, weekdays_in

#: First strong isolate and pop directional isolate: the text between them is laid out on its own,
#: so an Arabic span inside an English line neither reorders nor breaks it.
FSI, PDI = "\u2068", "\u2069"

_MONTHS_AR_EN = {arabic: english.capitalize() for english, names in MONTHS.items() for arabic in names}
#: English weekday and month names -> Arabic (the Egyptian-style month names, read across the Arab press).
_EN_AR = {english.lower(): arabic for arabic, english in (
    *WEEKDAYS.items(), *[(m, e) for m, e in _MONTHS_AR_EN.items() if m in (
        "يناير", "فبراير", "مارس", "ابريل", "مايو", "يونيو", "يوليو", "اغسطس", "سبتمبر", "اكتوبر", "نوفمبر",
        "ديسمبر")])}
_ARABIC = re.compile(r"[\u0621-\u064a\u0660-\u0669]")
_DIACRITICS = re.compile(r"[\u064b-\u0652\u0670\u0640]")
_ENGLISH_ARTICLES = frozenset({"the", "a", "an"})
_PUNCTUATION = "،,.؛:()\"«»'!؟?"
#: Function words: rendered by a small word (or dropped), never counted as content.
_SMALL_WORDS = {"و": "and", "في": "in", "من": "of", "على": "on", "الى": "to", "عن": "about", "او": "or",
                "مع": "with", "بين": "between", "ضد": "against", "نحو": "about", "حتى": "until", "بعد": "after",
                "قبل": "before", "خلال": "during", "عبر": "through", "لدى": "at", "عند": "at", "ثم": "then",
                "قد": "", "ان": "that", "التي": "which", "الذي": "which", "الذين": "who", "هم": "they",
                "هو": "he", "هي": "she", "ما": "what", "لا": "not", "لم": "not", "كل": "all", "بحسب": "according to",
                "حسب": "according to", "نحوه": "about", "ذات": "same"}
#: How many words of an answer may be glossed (the rest rendered by entities, names, numbers and
#: dates) before it is shown in Arabic instead: more reads as a word salad.
MAX_GLOSSED = 2
PHRASE_LABEL = "a phrase (Arabic)"


def isolate(text: str) -> str:
    """``text`` bidi-isolated (U+2068 … U+2069), as the CLI and API text carry an Arabic span in English."""
    return f"{FSI}{text}{PDI}"


@dataclass(frozen=True)
class ReaderAids:
    """What a span is rendered with for a reader of the other language.

    Attributes:
        glosses: Whole-word glosses (FreeDict), or ``None`` when not installed.
        entities: Entities with English names of their own.
        names: How names are spelt (known spellings, the article, the model when installed).
        places: A gazetteer of towns and cities: consulted for names, and for words no dictionary knows
            (many towns are named by common words: «الباب» is "the door" before it is al-Bab).
    """

    glosses: WordGlosses | None = None
    entities: EntityTable = field(default_factory=lambda: EntityTable({}))
    names: NameRenderer = field(default_factory=lambda: NameRenderer(KnownSpellings({})))
    places: EntityTable = field(default_factory=lambda: EntityTable({}))


@dataclass(frozen=True)
class Rendering:
    """A span rendered for the other language.

    Attributes:
        text: The rendering ("7", "Sunday", "Mazloum Abdi", "SDF"), the span itself when nothing needed
            rendering, or, for ``arabic``, the English label of what the span is ("a phrase (Arabic)").
        how: ``same`` (no rendering needed), ``exact`` (digits, days and months only), ``names`` (names
            and entities, with digits and dates), ``gloss`` (with at most two words glossed through the
            dictionary; approximate, and marked as such) or ``arabic`` (not renderable honestly: shown in
            Arabic with ``text`` as its label).
        glossed: How many words of ``text`` are dictionary glosses (or guesses at unknown words).
    """

    text: str
    how: str
    glossed: int = 0

    def shown(self, original: str) -> str:
        """The short answer as displayed: the rendering with the original beside it, isolated."""
        if self.how == "same" or _same(self.text, original):
            return original
        quoted = isolate(f"«{original}»")
        if self.how == "arabic":
            return f"{self.text}: {quoted}"
        if self.how == "gloss":
            return f"{self.text} (gloss of {quoted})" if self.text else quoted
        return f"{self.text} ({quoted})"


def _same(rendering: str, original: str) -> bool:
    return rendering.strip(_PUNCTUATION + " ") == original.strip(_PUNCTUATION + " ")


def has_arabic(text: str) -> bool:
    """Whether the text holds Arabic letters or Arabic-Indic digits."""
    return bool(_ARABIC.search(text))


def short_answer(span: str, language: str, kind: str, aids: ReaderAids | WordGlosses | None) -> str:
    """The short answer as shown to a reader of ``language``: the span, or its rendering beside it. Pure.

    Across languages a count is shown as its number ("136 («136 شخصاً على الأقل»)") and a day as its
    name: the question asked for that. A span that is only the number is shown once ("80").
    """
    if detect_language(span) == language and not (language == "en" and has_arabic(span)):
        return span
    numbers, days = numbers_in(span), weekdays_in(span)
    if kind == "number" and len(set(numbers)) == 1:
        return Rendering(numbers[0], "exact").shown(span)
    if kind == "day" and len(days) == 1:
        return Rendering(day_name(days[0], language), "exact").shown(span)
    return render_for(span, language, aids, names=kind in ("who", "where"), place=kind == "where").shown(span)


def render_for(span: str, reader_language: str, aids: ReaderAids | WordGlosses | None,
               names: bool = False, place: bool = False) -> Rendering:
    """``span`` rendered for a reader of ``reader_language`` (``en`` or ``ar``). Pure.

    ``names``: the question asks who or where, so an Arabic word that is a known name, or that the
    dictionary does not know, is a name («مظلوم» is a name there, not "downtrodden"). ``place``: the
    question asks where, and names of places lose their article as the press writes them ("Raqqa").
    """
    if not isinstance(aids, ReaderAids):
        aids = ReaderAids(glosses=aids)
    arabic = has_arabic(span)
    if (reader_language == "en") != arabic:
        return Rendering(span, "same")
    return _arabic_to_english(span, aids, names, place) if arabic else _english_to_arabic(span, aids)


@dataclass(frozen=True)
class _Piece:
    english: str
    what: str  # entity, number, date, small, name, gloss, unknown
    kind: str = ""  # the entity's kind
    article: bool = False  # an Arabic word with the article (a gloss gets "the")
    adjective: bool = False  # a nisba adjective ("الجنوبي"): goes before the noun it follows
    original: str = ""  # the Arabic word of a name, rendered with the name's other words


def _month_pattern(folded_name: str) -> re.Pattern[str]:
    """A month name as written (any alef or ta marbuta spelling), with an optional article or clitic."""
    letters = "".join({"ا": "[اأإآ]", "ه": "[هة]", "ي": "[يى]"}.get(c, re.escape(c)) for c in folded_name)
    return re.compile(rf"(?<!\S)(?:[وبل]?ال)?{letters}(?!\S)")


def _arabic_to_english(span: str, aids: ReaderAids, names: bool, place: bool = False) -> Rendering:
    plain = _DIACRITICS.sub("", span)
    for name, english in sorted(_MONTHS_AR_EN.items(), key=lambda kv: -len(kv[0])):
        plain = _month_pattern(name).sub(english, plain)
    words = [w for w in plain.split() if w.strip(_PUNCTUATION)]
    matches: dict[int, EntityMatch] = {m.start: m for m in aids.entities.matches(words)}
    covered = {k for m in matches.values() for k in range(m.start, m.end)}
    for m in aids.places.matches(words):
        free = not covered & set(range(m.start, m.end))
        first = words[m.start].strip(_PUNCTUATION)
        if WEEKDAYS.get(normalize_arabic(first)) or first.isascii():
            continue  # «الخميس» is Thursday before it is a town; month names are English already
        if place:
            wanted = True  # a "where" answer: the gazetteer before the name layers
        elif names:
            wanted = not aids.names.known.get(fold_name(first))  # a "who" answer: «بشار» is Bashar, not Béchar
        else:
            wanted = not _has_sense(first, aids)
        if free and wanted:
            matches[m.start] = m
            covered |= set(range(m.start, m.end))
    pieces: list[_Piece] = []
    i = 0
    while i < len(words):
        match = matches.get(i)
        if match is not None:
            pieces.append(_entity_piece(match))
            i = match.end
            continue
        pieces.extend(_word_pieces(words[i].strip(_PUNCTUATION), aids, names))
        i += 1
    pieces = _names_together(pieces, aids.names, place)
    content = [p for p in pieces if p.what != "small"]
    if not content:
        return Rendering(span, "same")
    unsure = [p for p in content if p.what in ("gloss", "unknown")]
    if len(unsure) > MAX_GLOSSED:
        return Rendering(_label(content), "arabic")
    text = _join(pieces)
    if all(p.what in ("number", "date") for p in content):
        return Rendering(text, "exact")
    return Rendering(text, "gloss" if any(p.what == "gloss" for p in content) else "names", len(unsure))


def _entity_piece(match: EntityMatch) -> _Piece:
    english = match.entity.english
    if match.clitic in ("of", "in") and match.entity.kind == "organisation" and not english.startswith("the "):
        english = "the " + english
    return _Piece(f"{match.clitic} {english}".strip(), "entity", match.entity.kind)


def _word_pieces(original: str, aids: ReaderAids, names: bool) -> list[_Piece]:
    bare = normalize_arabic(original)
    if not bare:
        return []
    if bare.isascii():  # Latin words and month names as written; Arabic-Indic digits as ASCII ones
        digits = bare.replace(",", "").replace(".", "").isdigit()
        return [_Piece(bare if digits else original, "number" if digits else "date")]
    day = WEEKDAYS.get(bare) or next((d for n, d in WEEKDAYS.items() if bare.endswith(n)), None)
    if day:
        return [_Piece(day, "date")]
    if numbers_in(bare):
        return [_Piece(numbers_in(bare)[0], "number")]
    if bare in _SMALL_WORDS:
        return [_Piece(_SMALL_WORDS[bare], "small")]
    form = fold_name(original)
    known = aids.names.known.get(form) or (form.startswith("ال") and aids.names.known.get(form[2:]))
    sense, core = _news_sense(bare)
    gloss = sense or (aids.glosses.english(bare) if aids.glosses is not None else "")
    article = bare.startswith("ال") or bare[:3] in ("وال", "بال", "فال", "لل")
    if names and (known or not gloss):
        return [_Piece("", "name", original=original)]
    if gloss:
        adjective = core in NEWS_ADJECTIVES or article and (bare.endswith("ي") or bare.endswith("يه"))
        return [_Piece(gloss, "gloss", article=article, adjective=adjective)]
    if known:
        return [_Piece("", "name", original=original)]
    return [_Piece(aids.names.word(original), "unknown")]


_SENSE_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")


def _has_sense(word: str, aids: ReaderAids) -> bool:
    bare = normalize_arabic(word)
    return bool(_news_sense(bare)[0] or (aids.glosses is not None and aids.glosses.english(bare)))


def _news_sense(bare: str) -> tuple[str, str]:
    """The news sense of a normalised word (:data:`NEWS_SENSES`), clitics stripped, and the form found."""
    for candidate in (bare, *(bare[len(p):] for p in _SENSE_PREFIXES if bare.startswith(p) and len(bare) > len(p) + 1)):
        if candidate in NEWS_SENSES:
            return NEWS_SENSES[candidate], candidate
    return "", bare


def _names_together(pieces: list[_Piece], names: NameRenderer, place: bool) -> list[_Piece]:
    """Runs of name words rendered as one name («عبد الله» -> "Abdullah")."""
    out: list[_Piece] = []
    run: list[str] = []
    for piece in [*pieces, _Piece("", "end")]:
        if piece.what == "name" and piece.original:
            run.append(piece.original)
            continue
        if run:
            out.extend(_Piece(word, "name") for word in names.words(" ".join(run), place).split(" ") if word)
            run = []
        if piece.what != "end":
            out.append(piece)
    return out


def _join(pieces: list[_Piece]) -> str:
    """The pieces in English order: "the" before a glossed word that had the article, a nisba
    adjective before the noun it follows («القسم الجنوبي» -> "the southern section")."""
    ordered = list(pieces)
    for k in range(len(ordered) - 1):
        noun, adjective = ordered[k], ordered[k + 1]
        if noun.what == "gloss" and adjective.what == "gloss" and adjective.adjective and not noun.adjective \
                and noun.english:
            ordered[k], ordered[k + 1] = _Piece(adjective.english, "gloss", article=noun.article), \
                _Piece(noun.english, "gloss")
    words: list[str] = []
    previous: _Piece | None = None
    for piece in ordered:
        if not piece.english:
            continue
        person = piece.what == "name" or piece.kind == "person"
        if person and previous is not None and previous.kind in ("organisation", "title") and words:
            words[-1] += ","  # "commander-in-chief of the SDF, Mazloum Abdi"
        elif previous is not None and _construct(previous, piece):
            words.append("of")  # «طائرات التحالف»: the aircraft of the coalition
        words.append(f"the {piece.english}" if piece.what == "gloss" and piece.article else piece.english)
        previous = piece
    return " ".join(words)


def _construct(noun: _Piece, owner: _Piece) -> bool:
    """Whether two pieces are a construct (iḍāfa), "noun of owner": a glossed noun without the article
    followed by an entity without a clitic of its own, or by a glossed noun with the article."""
    if noun.what != "gloss" or noun.article or noun.adjective:
        return False
    if owner.what == "entity":
        return owner.english.split(" ", 1)[0] not in ("of", "in", "and", "like")
    return owner.what == "gloss" and owner.article and not owner.adjective


def _label(content: list[_Piece]) -> str:
    """What an answer shown in Arabic is, in English: the kind of entity that makes most of it, else a phrase."""
    kinds = [p.kind for p in content if p.what == "entity"]
    if kinds and len(kinds) * 2 > len(content):
        return KINDS[max(set(kinds), key=kinds.count)]
    if all(p.what == "name" for p in content):
        return KINDS["person"]
    return PHRASE_LABEL


def _english_to_arabic(span: str, aids: ReaderAids) -> Rendering:
    tokens = span.split()
    english = aids.entities.english_names()
    words, exact = [], True
    i = 0
    while i < len(tokens):
        found = next(((n, english[key]) for n in range(min(6, len(tokens) - i), 0, -1)
                      if (key := _english_key(" ".join(tokens[i:i + n]))) in english), None)
        if found is not None:  # "the Syrian Democratic Forces" -> «قوات سوريا الديمقراطية»
            words.append(found[1])
            i += found[0]
            continue
        bare = tokens[i].strip(",.;:()\"'")
        i += 1
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
            words.append((aids.glosses.arabic(bare) if aids.glosses else "") or bare)
    return Rendering(" ".join(words), "exact" if exact else "gloss")


def _english_key(text: str) -> str:
    text = text.strip(",.;:()\"'").lower()
    return text[4:] if text.startswith("the ") else text


def key_facts(quote: str, aids: ReaderAids) -> str:
    """The key facts of an Arabic quote for an English reader, so that they can check it: its numbers
    with what they count, then the groups, places and people it names, each once and in English
    ("136 people · 84 of Islamic State (IS) · 7 civilians · Syrian Observatory for Human Rights"). Pure.

    Only what renders faithfully is listed (numbers, entities, counted nouns of known sense); ``""``
    for a quote with nothing of the kind, or one that is not Arabic.
    """
    if not has_arabic(quote):
        return ""
    words = [w for w in _DIACRITICS.sub("", quote).split() if w.strip(_PUNCTUATION)]
    # The entity table only: in running text the gazetteer's towns named by common words would be
    # guesses («الخميس», Thursday, is also a town).
    matches = {m.start: m for m in aids.entities.matches(words)}
    facts: list[str] = []
    named: list[str] = []
    counted: set[int] = set()
    i = 0
    while i < len(words):
        if i in matches:
            english = matches[i].entity.english
            if i not in counted and english not in named:
                named.append(english)
            i = matches[i].end
            continue
        bare = normalize_arabic(words[i].strip(_PUNCTUATION))
        day = WEEKDAYS.get(bare) or next((d for n, d in WEEKDAYS.items() if bare.endswith(n)), None)
        number = numbers_in(bare)
        if day and day not in named:
            named.append(day)
        elif number and (bare.isdigit() or not bare.isascii()):
            noun, used = _counted(words, i + 1, matches, aids)
            counted.update(used)
            facts.append(f"{number[0]} {noun}".strip())
        i += 1
    return " · ".join(dict.fromkeys([*facts, *named]))


def _counted(words: list[str], at: int, matches: dict[int, EntityMatch], aids: ReaderAids) -> tuple[str, set[int]]:
    """What the number before ``words[at]`` counts: a noun of known sense, or "of" an entity."""
    if at >= len(words):
        return "", set()
    if at in matches:
        return matches[at].entity.english, {at}
    bare = normalize_arabic(words[at].strip(_PUNCTUATION))
    if bare == "من" and at + 1 in matches:  # "84 من تنظيم الدولة": 84 of IS
        return f"of {matches[at + 1].entity.english}", {at + 1}
    sense, _ = _news_sense(bare)
    return _plural(sense), set()


def _plural(noun: str) -> str:
    """A counted noun after a number over one: Arabic counts 11 and more with a singular («800 عنصر»)."""
    if not noun or noun.endswith("s") or noun in ("people", "dead", "wounded") or " " in noun:
        return noun
    return noun + "s"
