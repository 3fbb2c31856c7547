"""The answer stream: the draft when iterated, the final answer from ``.answer()`` (no model needed)."""

from __future__ import annotations

import pytest

from assistant import Answer, AnswerStream


def _answer(text: str) -> Answer:
    return Answer(text=text, citations=[], grounded=True, language="en")


def test_iterating_yields_the_draft_and_answer_returns_the_final_answer() -> None:
    seen: list[Answer] = []
    stream = AnswerStream(["Seven ", "civilians [1]. ", "In London [1].", _answer("Seven civilians [1].")],
                          seen.append)
    assert list(stream) == ["Seven ", "civilians [1]. ", "In London [1]."]
    assert stream.draft == "Seven civilians [1]. In London [1]."
    assert stream.answer().text == "Seven civilians [1]." and seen == [stream.answer()]


def test_answer_reads_an_unread_draft_and_a_stream_without_draft_is_just_the_answer() -> None:
    stream = AnswerStream(["a", "b", _answer("ab")])
    assert stream.answer().text == "ab" and stream.draft == "ab" and list(stream) == []
    plain = AnswerStream([_answer("only")])
    assert list(plain) == [] and plain.answer().text == "only" and plain.draft == ""
    assert [*AnswerStream(["x", _answer("x")]).events()][-1].text == "x"


def test_a_stream_that_ends_without_an_answer_says_so() -> None:
    with pytest.raises(RuntimeError, match="without an answer"):
        AnswerStream(["draft"]).answer()
