"""ChatSession: a conversation with history; follow-ups are resolved against earlier turns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .text import detect_language, normalize_arabic, tokenize
from .types import Answer

_EN_REFERRING = re.compile(
    r"\b(?:he|she|it|they|him|her|his|its|their|them|this|that|these|those|there|then|same|"
    r"what about|how about|and)\b"
)
# Matched against normalised text (ى -> ي, ة -> ه, أ/إ/آ -> ا), so the words are spelt that way.
_AR_REFERRING = re.compile(
    r"^\s*(?:و|ف)(?:ب|ل)?(?:ماذا|كم|من|متي|اين|هل|ما|لماذا|كيف|اي)\b|\b(?:و|ل|ب)?(?:ذلك|تلك|هذا|هذه|هؤلاء|هولاء)\b|\b(?:هو|هي|هم|عنه|عنها|"
    r"عنهم|منه|منها|منهم|فيه|فيها|لها|له|لهم|به|بها|بهم|عليه|عليها|عليهم|اليه|اليها|اليهم|معه|معها|معهم|بحسبها|"
    r"بحسبه|حسبها|حسبه|قاله|قالته|نفسه|نفسها)\b"
)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation."""

    question: str
    standalone: str
    answer: Answer


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns (a pronoun, "and ...", or too few words)."""
    folded = normalize_arabic(question)
    if len(tokenize(question)) <= 1:
        return True
    return bool(_EN_REFERRING.search(folded) or _AR_REFERRING.search(folded))


def condense(question: str, history: list[Turn]) -> str:
    """A standalone search query for a follow-up: the previous question's words, then this one.

    Without an LLM the follow-up is not rewritten; prefixing the previous standalone question
    carries its entities (the SDF commander) into retrieval while the reply keeps this
    question's language.
    """
    if not history or not needs_context(question):
        return question
    return f"{history[-1].standalone} {question}"


@dataclass
class ChatSession:
    """A conversation. Each session has its own history; sessions never share it.

    Args:
        answer_fn: ``(question, search_query) -> Answer``; normally :meth:`Assistant.ask`.
        max_turns: History kept for follow-ups.
        rewrite: ``(follow-up, [(question, answer text), ...]) -> standalone question`` in the
            follow-up's language, or ``""`` when it cannot; an LLM condenser when one is configured.
            The rule-based :func:`condense` is used when it is absent or returns ``""``.
        stream_fn: ``(question, search_query) -> iterator of draft text, then the Answer``;
            normally :meth:`Assistant.ask_stream`. Used by :meth:`ask_stream`.
    """

    answer_fn: Callable[[str, str], Answer]
    max_turns: int = 20
    history: list[Turn] = field(default_factory=list)
    rewrite: Callable[[str, list[tuple[str, str]]], str] | None = None
    stream_fn: Callable[[str, str], Iterator[str | Answer]] | None = None

    def ask_stream(self, question: str) -> Iterator[str | Answer]:
        """Like :meth:`ask`, streaming through ``stream_fn``: draft text, then the final answer (last)."""
        if self.stream_fn is None:
            yield self.ask(question)
            return
        standalone = self.standalone(question)
        answer: Answer | None = None
        for event in self.stream_fn(question, standalone):
            if isinstance(event, Answer):
                answer = event
            yield event
        if answer is not None:
            self.history.append(Turn(question, standalone, answer))
            del self.history[:-self.max_turns]

    def ask(self, question: str) -> Answer:
        """Answer a question, resolving it against the conversation so far."""
        standalone = self.standalone(question)
        answer = self.answer_fn(question, standalone)
        self.history.append(Turn(question, standalone, answer))
        del self.history[:-self.max_turns]
        return answer

    def standalone(self, question: str) -> str:
        """The search query for a question: rewritten by ``rewrite`` when it can, else by :func:`condense`."""
        if self.rewrite is not None and self.history:
            rewritten = self.rewrite(question, [(t.question, t.answer.text) for t in self.history])
            if rewritten and detect_language(rewritten) == detect_language(question):
                return rewritten
        return condense(question, self.history)

    def reset(self) -> str:
        """Forget the conversation; returns the language of its last question (``"en"`` when it had none),
        for the confirmation."""
        language = self.history[-1].answer.language if self.history else "en"
        self.history.clear()
        return language
