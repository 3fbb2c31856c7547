"""What a claim says beyond its facts: the events it names across languages, negation and outcome,
the pieces of a passage it is compared with, what its numbers count, the content words it shares
with a passage, and what it copies from one. Pure."""


from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..text.lexicon import DISCOURSE_WORDS, NAME_WORDS_EN_AR
from ..text.normalize import (
    EN_STOPWORDS,
    Span,
    normalize_arabic,
    split_clauses,
    split_sentences,
)
from .claims import MARKER
from .facts import content_cores, numbers_of

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
    words = NAME_WORDS_EN_AR
    return " ".join(words[w.lower()][0] if w.isupper() and w.lower() in words else w for w in phrase.split())


# -- words in common (same-language pairs) ----------------------------------------------------------



def content_coverage(claim: str, passage_cores: frozenset[str]) -> float:
    """The share of the claim's content words that the passage has (a shared stem of three letters counts)."""
    cores = content_cores(claim)
    if not cores:
        return 1.0
    return sum(core_in(core, passage_cores) for core in cores) / len(cores)


def core_in(core: str, cores: frozenset[str]) -> bool:
    """Whether a content word is among ``cores`` (a shared stem of three letters counts)."""
    return core in cores or (len(core) >= 3 and any(core in c or c in core for c in cores if len(c) >= 3))


# -- copies (same-language pairs) -------------------------------------------------------------------

#: Words in a row a sentence must share with a passage for the stretch to count as copied from it.
COPY_RUN = 4
_PLAIN_WORD = re.compile(r"\w+")


def plain_words(text: str) -> tuple[str, ...]:
    """A text's words, normalised but neither stemmed nor left out: what a verbatim copy keeps."""
    return tuple(_PLAIN_WORD.findall(normalize_arabic(text)))


def copied_share(text: str, passages: Sequence[tuple[str, ...]]) -> float:
    """The share of a sentence's words that lie in stretches of :data:`COPY_RUN` or more words found,
    in that order, in one of the passages (given as their :func:`plain_words`)."""
    words = plain_words(text)
    stretches = {passage[i:i + COPY_RUN] for passage in passages for i in range(len(passage) - COPY_RUN + 1)}
    copied = [False] * len(words)
    for first in range(len(words) - COPY_RUN + 1):
        if words[first:first + COPY_RUN] in stretches:
            copied[first:first + COPY_RUN] = [True] * COPY_RUN
    return sum(copied) / len(words) if words else 0.0


def added_words(text: str, cores: frozenset[str]) -> list[str]:
    """The content words of a sentence that ``cores`` (its passages' and its question's) lack, other
    than :data:`~assistant.text.lexicon.DISCOURSE_WORDS`, as the sentence writes them (normalised).
    A lone letter (a conjunction written apart, "و اعتقال") is no word."""
    added = []
    for word in plain_words(text):
        found = content_cores(word)
        if len(word) < 2 or not found or found[0] in _discourse_cores() or core_in(found[0], cores):
            continue
        added.append(word)
    return list(dict.fromkeys(added))


@lru_cache(maxsize=1)
def _discourse_cores() -> frozenset[str]:
    return frozenset(core for word in DISCOURSE_WORDS for core in content_cores(word))
