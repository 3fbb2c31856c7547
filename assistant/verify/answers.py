"""Does a supported sentence answer its question? Pure.

:mod:`.checks` shows that a sentence's words, numbers and names come from the passage it cites;
this module shows that it answers the question with what the passage says answers it: it states
the trained reader's answer (with who gives it, when the sources disagree), and it says more than
the question's own words.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..config import VerifySettings
from ..text.lexicon import NAME_PREFIXES, NAME_WORDS_EN_AR
from ..text.normalize import AR_STOPWORDS, EN_STOPWORDS, detect_language, normalize_arabic, stem_arabic, weekdays_in
from .claims import ReaderAnswer, Verdict
from .facts import AR_TOKEN, LATIN_WORD, PassageFacts, months_of, numbers_of
from .wording import content_cores, content_coverage, core_in


def answers_question(verdict: Verdict, question: str, reader: ReaderAnswer | None, settings: VerifySettings) -> Verdict:
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
        who = " / ".join(f"{reader.values[i]} («{speakers[i] or 'not named'}»)" for i in stated)
        if not any(speakers[i] and states_value(text, speakers[i], settings.min_answer_share) for i in stated):
            return f"the sources disagree and it does not say who gives {who}"
        # "How many escaped according to the SDF?" is not answered by Amaq's figure, however well
        # attributed: the value stated must be the asked source's (the extractive answer gives each).
        if reader.asked and not any(speakers[i] and same_source(speakers[i], reader.asked, settings.min_answer_share)
                                    for i in stated):
            return f"the question asks for «{reader.asked}»'s figure and it gives {who}"
    return ""


def same_source(one: str, other: str, min_share: float = 0.75) -> bool:
    """Whether two names of a source name the same one, in either script («قسد» and "SDF")."""
    return states_value(one, other, min_share) or states_value(other, one, min_share)


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
        stated_cores = sum(core_in(core, own) or any(
            core.startswith(prefix) and core[len(prefix):] in own for prefix in NAME_PREFIXES) for core in cores)
        return stated_cores / len(cores) >= min_share
    facts = PassageFacts.of(text)
    if detect_language(value) == "ar":
        words = [t for t in AR_TOKEN.findall(normalize_arabic(value)) if t not in AR_STOPWORDS and len(t) > 1]
        # Short glossary words count only as written in capitals: "IS" is the organisation, "is" a verb.
        english = {re.sub(r"['’]s$", "", part).lower() for w in LATIN_WORD.findall(text) for part in w.split("-")
                   if len(part) > 3 or part.isupper()}
        forms = [form for word in english for form in NAME_WORDS_EN_AR.get(word, ())]
        form_words = {stem_arabic(part) for form in forms for part in form.split()}

        def stated(word: str) -> bool:
            return (facts.has_arabic_name(word) or stem_arabic(word) in form_words
                    or any(form in word for form in forms if len(form) >= 3))
    else:
        words = [w for w in LATIN_WORD.findall(value) if w.lower() not in EN_STOPWORDS and len(w) > 1]
        stated = facts.has_latin_name
    if not words:
        return False
    return sum(stated(word) for word in words) / len(words) >= min_share
