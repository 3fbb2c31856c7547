"""Is a short answer one the question can be given? Pure.

The reader and the sentence picker choose a span of a passage; the LLM's sentences pass through
:mod:`.checks`. This module holds the short answer to the same standard before it leads a reply:

- it is whole words of its passage, never part of one (``عشر`` inside ``عشرات`` read as "10");
- its kind fits the question: a count is a number, "when" a point in time and not a duration, "who"
  and "where" not a bare number or date, and it says more than the question's own words;
- every name the question asks about (a people, a group, a place, a person) is stated by the cited
  sentence or its neighbours, across languages through the glossary (:func:`.facts.absent_names`);
- when the question names the source whose figure it wants, the sentence is that source's.

Which words name the asked source, who a sentence quotes and what kind of answer a question asks
for are read by the answerer (it owns those word lists) and passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..text.lexicon import CONSTRAINT_WORDS, EXACT_WORDS, SOURCE_KIND_WORDS, TIME_UNITS
from ..text.normalize import detect_language, normalize_arabic, numbers_in, referring_clitic, tokenize, weekdays_in
from .answers import adds_to_question, same_source
from .facts import AR_TOKEN, PassageFacts, absent_names, arabic_skeletons, latin_names, months_of, numbers_of
from .wording import content_cores, core_in, question_counted_phrase

#: ``(word of the question, text) -> whether the text states it``, in its language or through a
#: glossary; ``True`` when it cannot be told (a word no glossary knows).
Stated = Callable[[str, str], bool]

#: A quantity without a figure: "dozens", "hundreds" (normalised spelling).
VAGUE_QUANTITIES = frozenset({"عشرات", "مئات", "الاف", "ملايين", "عده", "بضع", "بضعه", "dozens", "hundreds",
                              "thousands", "millions", "several", "many", "few"})
# A question that asks how long, not when: its answer may be a duration.
_ASKS_DURATION = re.compile(r"\bhow long\b|\bfor how (?:many|much)\b|\bمده\b|\bالمده\b|\bكم (?:يوما|ساعه|سنه|عاما|"
                            r"شهرا|اسبوعا|دقيقه)|\bمنذ كم\b|\bكم استمر|\bكم دام|\bطوال\b")
_WORD_CHAR = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class ShortAnswerCheck:
    """What the checks found of one short answer.

    Attributes:
        whole_words: The span starts and ends on word boundaries of its passage.
        kind_fits: Its kind fits the question's (see :func:`kind_problem`).
        kind_problem: Why it does not, or ``""``.
        absent: Names the question asks about that the cited sentence and its neighbours never state.
        source_fits: ``True`` when the question names a source and the sentence is that source's,
            ``False`` when it is another's, ``None`` when no source is asked for or none is named.
    """

    whole_words: bool
    kind_fits: bool
    kind_problem: str
    absent: tuple[str, ...]
    source_fits: bool | None

    @property
    def passed(self) -> bool:
        """Every check passed (an unnamed speaker is not held against it)."""
        return self.whole_words and self.kind_fits and not self.absent and self.source_fits is not False

    @property
    def problems(self) -> list[str]:
        """Each failed check, in words."""
        found = []
        if not self.whole_words:
            found.append("the span cuts a word")
        if self.kind_problem:
            found.append(self.kind_problem)
        if self.absent:
            found.append("the passage never names " + ", ".join(self.absent))
        if self.source_fits is False:
            found.append("the passage gives another source's figure")
        return found


_PROCLITICS = "وف"  # conjunctions only: "ل" fuses with the article («للتحالف»)


def whole_word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` widened to the words they fall inside: a span never begins or ends mid-word.
    A conjunction written onto a word is a word of its own here ("و" of «وسبعة»: "and")."""
    def after_proclitic(at: int) -> bool:
        return text[at - 1] in _PROCLITICS and (at == 1 or not _WORD_CHAR.match(text[at - 2]))

    while start > 0 and start < len(text) and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start]) \
            and not after_proclitic(start):
        start -= 1
    while 0 < end < len(text) and _WORD_CHAR.match(text[end - 1]) and _WORD_CHAR.match(text[end]):
        end += 1
    return start, end


def is_whole_words(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` begins and ends on word boundaries."""
    return whole_word_bounds(text, start, end) == (start, end)


def is_duration(span: str) -> bool:
    """Whether a span gives a length of time ("ثلاثة أيام", "منذ ثلاثة أيام", "three days"): a number or a
    dual time word followed by a unit, without a weekday, month or year that would make it a date."""
    words = re.findall(r"[^\W_]+", normalize_arabic(span))
    if weekdays_in(span) or months_of(span) or re.search(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)", span):
        return False
    if any(w in ("يومين", "ساعتين", "اسبوعين", "شهرين", "سنتين", "عامين") for w in words):
        return True
    return any(numbers_in(w) and i + 1 < len(words) and words[i + 1] in TIME_UNITS for i, w in enumerate(words))


def kind_problem(kind: str, question: str, span: str) -> str:
    """Why a span is not the kind of answer the question asks for, or ``""``.

    ``kind`` is the answerer's reading of the question: ``number``, ``day`` (when), ``date``, ``who``,
    ``where`` or ``other``.
    """
    folded = normalize_arabic(span)
    words = set(re.findall(r"[^\W_]+", folded))
    has_number = bool(numbers_in(span) or numbers_of(span) or words & VAGUE_QUANTITIES)
    if not adds_to_question(span, question):
        return "the short answer only repeats the question's words"
    if kind == "number":
        if not has_number:
            return "a count was asked for and the span gives no number"
        if is_duration(span) and not _ASKS_DURATION.search(normalize_arabic(question)):
            return "a count was asked for and the span is a length of time"
        if len(numbers_of(span)) > 1:  # «عشرات القتلى سقطوا … ونجح مئات»: which of them?
            return "a count was asked for and the span gives several numbers"
        asked_words = set(re.findall(r"[^\W_]+", normalize_arabic(question)))
        if asked_words & EXACT_WORDS and not (numbers_in(span) or numbers_of(span)):
            return "an exact figure was asked for and the span gives none"
    if kind in ("day", "date") and is_duration(span) and not _ASKS_DURATION.search(normalize_arabic(question)):
        return "a point in time was asked for and the span is a length of time"
    if kind in ("who", "where"):
        bare = re.sub(r"[\W_]+", "", folded)
        first = folded.split()[0] if folded.split() else ""
        if bare.isdigit() or is_duration(span) or (weekdays_in(span) and len(words) <= 2) or numbers_in(first):
            asked = "someone" if kind == "who" else "a place"
            return f"{asked} was asked for and the span is a number or a time"
    return ""


# "What is the name of the prison's director?", "Who is the director of the prison?", "ما اسم مدير السجن؟",
# "من هو مدير السجن؟": the role or thing whose name is asked for.
_EN_HEAD = re.compile(r"\b(?:name of|who (?:is|was|are|were)|who's)\s+(?:the\s+|an?\s+)?(?:[\w-]+['’]s\s+)?"
                      r"([a-z][\w-]*)", re.IGNORECASE)
_AR_HEAD = re.compile(r"(?:^|\s)(?:[وف]?ما\s+اسم|[وف]?من\s+(?:هو|هي|هم))\s+([\u0621-\u064a]+)")
_NOT_HEADS = frozenset({"name", "one", "person", "man", "woman", "people", "group", "first", "last", "current",
                        "new", "old", "main"})


def asked_head(question: str) -> str:
    """The role or thing a "who"/"name of" question asks the name of ("director", «مدير»), or ``""``."""
    english = _EN_HEAD.search(question)
    if english and english.group(1).lower() not in _NOT_HEADS and not english.group(1)[:1].isupper():
        return english.group(1)
    arabic = _AR_HEAD.search(normalize_arabic(question))
    return arabic.group(1) if arabic else ""


def stated_as_written(word: str, text: str) -> bool:
    """Whether ``text`` has ``word`` in its own language: a shared stem of three letters or more counts
    ("القتلى" ~ "مقتل", "escapees" ~ "escaped")."""
    cores = content_cores(word)
    own = frozenset(content_cores(text))
    if not cores:
        return False
    if any(core_in(core, own) for core in cores):
        return True
    # Arabic broken plurals keep the root's consonants, not its letters in a row: سجناء ~ سجيناً
    wanted = {k for w in AR_TOKEN.findall(normalize_arabic(word)) for k in arabic_skeletons(w)}
    found = {k for w in AR_TOKEN.findall(normalize_arabic(text)) for k in arabic_skeletons(w)}
    return any(len(k) >= 3 and any(k in f for f in found) for k in wanted)


_AR_WHAT_DID = re.compile(r"^\s*[وف]?(?:ماذا|ما الذي)\s+[\u0621-\u064a]+\s+([\u0621-\u064a]+)")
_EN_WHAT_DID = re.compile(r"^\s*(?:and\s+)?what\s+(?:did|does|do|has|have|had|will|would)\s+(.+?)[?.!]*\s*$",
                          re.IGNORECASE)
_EN_PREPOSITIONS = frozenset("about over in on at to from for with against during into onto near inside".split())


def asked_deed(question: str) -> str:
    """What a "what did X do" question asks was done ("ماذا ألقت المروحيات؟" -> "ألقت"; "What did
    coalition helicopters drop over Hasakah?" -> "drop"), or ``""``."""
    arabic = re.match(r"^\s*[وف]?(?:ماذا|ما الذي)\s+([\u0621-\u064a]+)", question)
    if arabic:
        return arabic.group(1)
    english = _EN_WHAT_DID.search(question)
    if not english:
        return ""
    words = english.group(1).split()
    end = next((i for i, w in enumerate(words) if w.lower() in _EN_PREPOSITIONS), len(words))
    return words[end - 1] if end >= 2 else ""


def names_the_doer(question: str, passage: str, start: int, end: int) -> bool:
    """Whether a span is who did what a "what did X do" question asks about, not what they did: the
    deed is written right after it and not before it («الطائرات المروحية … ألقت … منشورات»)."""
    deed = asked_deed(question)
    if not deed or detect_language(deed) != detect_language(passage[start:end]):
        return False
    return stated_as_written(deed, passage[end:end + 120]) and not stated_as_written(
        deed, passage[max(0, start - 120):start])


def asked_subject(question: str) -> list[str]:
    """Who or what does the deed a "what did X do" question asks about ("ماذا ألقت المروحيات؟" ->
    ["المروحيات"]; "What did coalition helicopters drop over Hasakah?" -> ["coalition", "helicopters"]):
    the short answer is what they did, never they themselves."""
    arabic = _AR_WHAT_DID.search(question)
    if arabic:
        word = arabic.group(1)
        return [word] if tokenize(word) else []
    english = _EN_WHAT_DID.search(question)
    if not english:
        return []
    words = english.group(1).split()
    end = next((i for i, w in enumerate(words) if w.lower() in _EN_PREPOSITIONS), len(words))
    return [w for w in words[: end - 1] if tokenize(w)]  # the last word before the preposition is the verb


def counted_words(question: str) -> list[str]:
    """The first content words of what a "how many" question counts ("How many IS fighters ..." ->
    ["fighters"]; "كم عدد سكان مدينة الحسكة" -> ["سكان", "مدينة"]), as written."""
    def content(phrase: str) -> list[str]:
        return [w for w in re.findall(r"[^\W\d_]+", phrase) if tokenize(w) and not referring_clitic(w)][:2]

    found = content(question_counted_phrase(question))
    if not found:  # "And how many were IS members?": an auxiliary stops the phrase; look past it
        match = _HOW_MANY_AUXILIARY.search(question)
        found = content(match.group(1)) if match else []
    return found


#: «عددهم», «عددها»: "their number", a count of the noun its clause hangs on (normalised spelling).
_THEIR_NUMBER = re.compile(r"^[وف]?عدد(?:هم|ها|هن|هما)$")
#: "45 من الأسايش", "45 of them": the words a number counts a part of.
_PARTITIVE = re.compile(r"\s*(?:من|of(?: the)?)\s+([^\W\d_]+)")
_HOW_MANY_AUXILIARY = re.compile(r"\bhow many\s+(?:(?:were|was|are|is|have|has|had|of them|of those|there)\s+)+"
                                 r"([^?]+)", re.IGNORECASE)


def counts_other(question: str, passage: str, start: int, end: int, window: str, stated: Stated,
                 asked: str = "") -> bool:
    """Whether the number ``passage[start:end]`` counts something other than what a "how many" question
    counts: none of the counted words is stated in the few words around it, while the window states
    one elsewhere (another number counts it: "25" burnt vehicles beside "800" escapees). A counted
    word the window never states is no finding: the passage may word it otherwise. A part of a
    total named by the question ("مقتل 136 شخصاً، هم … و45 من الأسايش" for "كم قتيلاً سقط من
    الأسايش") counts what is asked: its noun is the total's."""
    counted = _not_the_source(counted_words(question), asked)
    if not counted:
        return False
    part = _PARTITIVE.match(passage, end)
    if part and stated(part.group(1), question):
        return False
    before = passage[max(0, start - 60):start].split()[-4:]
    if any(_THEIR_NUMBER.match(normalize_arabic(word)) for word in before):
        # "الفارين من السجن، الذين يقدر عددهم بحدود 80": "their number" counts the noun before the clause
        before = passage[max(0, start - 120):start].split()[-10:]
    after = passage[end:end + 80].split()[:5]
    around = " ".join([*before, passage[start:end], *after])
    if any(stated(word, around) for word in counted):
        return False
    return any(stated(word, window) for word in counted)


def _not_the_source(words: list[str], asked: str) -> list[str]:
    """The question's words that are not the asked source's name ("كم عدد الفارين حسب قسد؟" counts
    «الفارين», not «قسد»)."""
    source = {normalize_arabic(w).casefold() for w in re.findall(r"[^\W\d_]+", asked)}
    return [w for w in words if normalize_arabic(w).casefold() not in source]


def names_same_source(one: str, other: str) -> bool | None:
    """Whether two names of a source share a word that says which source it is, not what kind
    ("وكالة أعماق" and "أعماق"; "حصيلة المرصد" and "المرصد السوري"; "المركز الإعلامي لقسد" and "قسد");
    ``None`` when one names only a kind ("المركز"): it cannot be told."""
    def cores(name: str) -> set[str]:
        words = [w for w in re.findall(r"[^\W\d_]+", normalize_arabic(name)) if w not in SOURCE_KIND_WORDS]
        return {k for w in words for k in (arabic_skeletons(w) if AR_TOKEN.fullmatch(w) else {w}) if len(k) >= 2}

    mine, theirs = cores(one), cores(other)
    if not mine or not theirs:
        return None
    return any(a in b or b in a for a in mine for b in theirs if min(len(a), len(b)) >= 2)


@lru_cache(maxsize=512)
def _facts(window: str) -> PassageFacts:
    """A window's facts, kept: the candidates of one question share their windows."""
    return PassageFacts.of(window)


def check_short_answer(question: str, kind: str, passage: str, start: int, end: int, window: str,
                       asked: str = "", speaker: str = "", stated: Stated | None = None) -> ShortAnswerCheck:
    """Check the short answer ``passage[start:end]`` for ``question``.

    Args:
        question: What the user asked (a follow-up's own words, not the referent added to it).
        kind: What the question asks for (the answerer's ``question_kind``).
        passage: The text the span is taken from.
        start, end: The span's offsets in ``passage``.
        window: The cited sentence with its neighbours: where the question's names must be stated.
        asked: The source whose figure the question asks for, or ``""``.
        speaker: Who the cited sentence quotes, or ``""``.
        stated: Whether a text states a word of the question, across languages too; without it only
            the names :func:`.facts.absent_names` can show absent are checked.
    """
    span = passage[start:end]
    problem = kind_problem(kind, question, span)
    if not problem and detect_language(question) == detect_language(span) and \
            (any(stated_as_written(word, span) for word in asked_subject(question))
             or names_the_doer(question, passage, start, end)):
        problem = "the short answer names who the question asks about, not what they did"
    absent = absent_names(question, [_facts(window)])
    if stated is not None:
        head = asked_head(question)
        names, _ = latin_names(question)
        constraints = [w for w in re.findall(r"[^\W\d_]+", question)
                       if w.lower() in CONSTRAINT_WORDS or normalize_arabic(w) in CONSTRAINT_WORDS
                       or normalize_arabic(w)[1:] in CONSTRAINT_WORDS and normalize_arabic(w)[:1] in "وفبل"]
        absent += [word for word in dict.fromkeys([head, *names, *constraints])
                   if word and word not in absent and not stated(word, window)]
        if not problem and kind == "number":
            counted = _not_the_source(counted_words(question), asked)
            # Across languages a counted noun is often a synonym the glossary lacks ("people" for «شخصاً»):
            # only a same-language passage is held to naming it.
            same_language = detect_language(question) == detect_language(window)
            if counted and same_language and not any(stated(word, window) for word in counted):
                problem = "the passage never says what the question counts"
            elif counts_other(question, passage, start, end, window, stated, asked):
                problem = "the number counts something other than what was asked"
    source_fits = None
    if asked:  # the asked source speaks the sentence, or (its speaker unnamed) is named around it
        same_script = detect_language(asked) == detect_language(speaker or window)
        by_speaker = None
        if speaker:
            by_speaker = True if same_source(asked, speaker) else (
                names_same_source(asked, speaker) if same_script else
                # across scripts: the speaker («قسد», found before a «وأشارت أنها») names the asked "SDF"
                (True if stated is not None and stated(asked, speaker) else None))
        if by_speaker is None:  # across scripts the name is looked up as the question's other words are
            by_speaker = bool(names_same_source(asked, window)) if same_script or stated is None else \
                stated(asked, window)
        source_fits = by_speaker
        if source_fits:  # the source asked for speaks: its name need not stand in the sentence too
            absent = _not_the_source(absent, asked)
    return ShortAnswerCheck(is_whole_words(passage, start, end), not problem, problem,
                            tuple(dict.fromkeys(absent)), source_fits)
