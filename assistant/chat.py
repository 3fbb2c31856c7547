"""ChatSession: a conversation with history; each question is decided to stand alone or to lean on
the last turn, and a follow-up carries over only the referent it needs. Pure but for ``answer_fn``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .answer.analysis import question_kind
from .text.lexicon import AR_QUESTION_WORDS, AR_REFERRING_CLITICS, EN_QUESTION_WORDS
from .text.normalize import AR_STOPWORDS, EN_STOPWORDS, detect_language, normalize_arabic, referring_clitic
from .types import Answer, AnswerStream

# English pronouns that point back at something named earlier; "it" in "is it true" as well, which
# only costs a referent appended to the search.
_EN_PRONOUN = re.compile(r"\b(?:he|she|it|they|him|her|them|his|its|their|hers|theirs)\b", re.IGNORECASE)
_EN_DEMONSTRATIVE = re.compile(r"\b(?:this|that|these|those|there|the same)\b", re.IGNORECASE)
# "and on the other side?", "what about Amaq?", "and the wounded?": an ellipsis of the last question.
_EN_ELLIPSIS = re.compile(r"^\s*(?:and|but|also|so|what about|how about|and what about|and how about)\b",
                          re.IGNORECASE)
# Matched against normalised text (ى -> ي, ة -> ه, أ/إ/آ -> ا): "وماذا عن ...", "وكذلك ...".
_AR_ELLIPSIS = re.compile(r"^\s*(?:وماذا عن|ماذا عن|وما عن|وكذلك|و?بالنسبه ل|وعن)\b")
_AR_DEMONSTRATIVE = re.compile(r"(?<!\S)(?:و|ل|ب)?(?:ذلك|تلك|هذا|هذه|هؤلاء|هولاء|هناك)(?![\u0621-\u064a])")
# "من هو X" / "ما هي X": a pronoun as copula after a question word points at nothing.
_AR_COPULA = re.compile(r"(?<!\S)[وف]?(?:من|ما|ماذا|اين)\s+(?:هو|هي|هم)(?!\S)")
_AR_AND_ASKS = re.compile(r"^\s*[وف](?:ب|ل)?(?:ماذا|كم|من|متي|اين|هل|ما|لماذا|كيف|اي)(?!\S)")
# A word of four letters or more with a pronoun written onto its end (ه, not ة): "هاجمته", "قادها".
_SUFFIXED = re.compile(r"^(?!ال)[\u0621-\u064a]{2,}(?:ه|ها|هم|هما)[؟?.،,!]*$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what was typed, what was searched and read, and the answer."""

    question: str
    standalone: str
    answer: Answer


def _content_words(question: str) -> list[str]:
    """The question's words, as written, that are neither function words nor question words."""
    words = _WORD.findall(question)
    kept = []
    for word in words:
        folded = normalize_arabic(word)
        if word.isupper() and len(word) > 1 and word.isascii():  # an acronym: "IS", "SDF", "US"
            kept.append(word)
        elif len(folded) > 1 and not ({folded, folded[1:] if folded[:1] in "وف" else folded}
                                    & (AR_STOPWORDS | EN_STOPWORDS | AR_QUESTION_WORDS | EN_QUESTION_WORDS)):
            kept.append(word)
    return kept


def needs_context(question: str) -> bool:
    """True when a question leans on the last turn: a pronoun or demonstrative that points back, an
    ellipsis ("and the wounded?", "وماذا عن أعماق؟"), or no subject of its own (one content word or
    none). A question with its own subject and no pointing word stands alone, whatever conjunction
    it starts with ("How many prisoners escaped, and who says so?", "ومن هو مظلوم عبدي؟")."""
    content = _content_words(question)
    if len(content) <= 1:
        return True
    if detect_language(question) == "en":
        if _EN_PRONOUN.search(question) or _EN_DEMONSTRATIVE.search(question):
            return True
        return bool(_EN_ELLIPSIS.search(question)) and len(content) <= 2
    folded = normalize_arabic(question)
    without_copula = _AR_COPULA.sub(" ", folded)
    kept = set(without_copula.split())
    if any(referring_clitic(w) and normalize_arabic(w).strip("؟?.،,!") in kept for w in question.split()) \
            or _AR_DEMONSTRATIVE.search(without_copula):
        return True
    if re.search(r"(?<!\S)(?:هو|هي|هم)(?!\S)", without_copula):
        return True
    if _AR_ELLIPSIS.search(folded):
        return len(content) <= 3
    # "وماذا قال عن ..." (he said), "وبماذا هاجمته ..." (attacked it): an Arabic question that opens with
    # "and" drops its subject or writes it onto the verb; one with its own copula subject stands alone.
    if _AR_AND_ASKS.search(folded) and not _AR_COPULA.search(folded):
        return len(content) <= 3 or any(_SUFFIXED.search(w) for w in question.split()[1:])
    return False


_EN_PERSONAL = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_EN_NAME_ASKED = re.compile(r"\bname\b|\bwhich (?:agency|group|organi[sz]ation|company|country|city)\b",
                            re.IGNORECASE)


def referent(question: str, history: list[Turn]) -> tuple[str, bool]:
    """What a follow-up points back at, and whether it is a name that can stand in for its pronoun.

    The last answer's short answer when the last question asked who or for a name and the follow-up
    points at it (an Arabic pronoun; "he"/"she"; "it" after "what is the name of the agency"); else
    the last question's own subject, its content words (the killed, the prison), never the question
    whole.
    """
    if not history:
        return "", False
    last = history[-1]
    span = last.answer.span.text if last.answer.span is not None else ""
    named = (last.answer.grounded and bool(span) and not re.search(r"\d", span) and len(span.split()) <= 6
             and question_kind(last.standalone) == "who")
    if named:
        english = detect_language(question) == "en"
        if not english or _EN_PERSONAL.search(question) or _EN_NAME_ASKED.search(last.standalone):
            return span, True
    return " ".join(dict.fromkeys(_content_words(last.standalone))), False


def resolve(question: str, history: list[Turn]) -> str:
    """The question the reader reads and the search takes: the question itself when it stands alone;
    else with its referent in place of the pronoun where the referent is a name ("How many escapees
    did Amaq claim?", "وكم عدد الفارين بحسب أعماق؟"), or after it in brackets."""
    if not history or not needs_context(question):
        return question
    found, is_name = referent(question, history)
    if not found or normalize_arabic(found) in normalize_arabic(question):
        return question
    if is_name and detect_language(question) == "en":
        replaced, n = re.subn(r"\b(?:it|he|she|they|him|her|them)\b(?!')", found, question, count=1,
                              flags=re.IGNORECASE)
        if n == 0:
            replaced, n = re.subn(r"\b(?:its|his|her|their)\b", f"{found}'s", question, count=1,
                                  flags=re.IGNORECASE)
        if n:
            return replaced
    elif is_name:
        words = question.split()
        for i, word in enumerate(words):
            found_clitic = referring_clitic(word)
            if found_clitic and AR_REFERRING_CLITICS[found_clitic[1]]:
                conjunction, form = found_clitic
                tail = word[len(word.rstrip("؟?.،,!")):]
                words[i] = f"{conjunction}{AR_REFERRING_CLITICS[form]} {found}{tail}"
                return " ".join(words)
    stripped = question.rstrip()
    mark = stripped[-1] if stripped[-1:] in ("?", "؟") else ""
    return f"{stripped.rstrip('?؟')} ({found}){mark}"



@dataclass
class ChatSession:
    """A conversation. Each session has its own history; sessions never share it.

    Args:
        answer_fn: ``(question, search_query) -> Answer``; normally :meth:`Assistant.ask`.
        max_turns: History kept for follow-ups.
        rewrite: ``(follow-up, [(question, answer text), ...]) -> standalone question`` in the
            follow-up's language, or ``""`` when it cannot; an LLM condenser when one is configured.
            The rule-based :func:`resolve` is used when it is absent or returns ``""``.
        stream_fn: ``(question, search_query) -> AnswerStream``; normally
            :meth:`Assistant.ask_stream`. Used by :meth:`ask_stream`.
    """

    answer_fn: Callable[[str, str], Answer]
    max_turns: int = 20
    history: list[Turn] = field(default_factory=list)
    rewrite: Callable[[str, list[tuple[str, str]]], str] | None = None
    stream_fn: Callable[[str, str], AnswerStream] | None = None

    def ask_stream(self, question: str) -> AnswerStream:
        """Like :meth:`ask`, streaming through ``stream_fn``: iterate for the draft, then ``.answer()``.

        The turn joins the history when the final answer arrives.
        """
        if self.stream_fn is None:
            return AnswerStream([self.ask(question)])
        standalone = self.standalone(question)
        return AnswerStream(self.stream_fn(question, standalone).events(),
                            lambda answer: self._remember(question, standalone, answer))

    def _remember(self, question: str, standalone: str, answer: Answer) -> None:
        self.history.append(Turn(question, standalone, answer))
        del self.history[:-self.max_turns]

    def ask(self, question: str) -> Answer:
        """Answer a question, resolving it against the conversation so far."""
        standalone = self.standalone(question)
        answer = self.answer_fn(question, standalone)
        self._remember(question, standalone, answer)
        return answer

    def standalone(self, question: str) -> str:
        """The search query for a question: rewritten by ``rewrite`` when it can, else by :func:`resolve`."""
        if self.rewrite is not None and self.history:
            rewritten = self.rewrite(question, [(t.question, t.answer.text) for t in self.history])
            if rewritten and detect_language(rewritten) == detect_language(question):
                return rewritten
        return resolve(question, self.history)

    def reset(self) -> str:
        """Forget the conversation; returns the language of its last question (``"en"`` when it had none),
        for the confirmation."""
        language = self.history[-1].answer.language if self.history else "en"
        self.history.clear()
        return language
