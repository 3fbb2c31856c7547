"""Value types: the answer stream (the draft when iterated, the final answer from ``.answer()``), and
hits and citations built from their chunk. No model needed."""

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


def test_hits_and_citations_are_built_from_the_chunk_they_are() -> None:
    from assistant import Chunk, Citation, Hit

    chunk = Chunk("c1", "a.txt", "Title", 3, 10, 20, "ten chars!")
    hit = Hit.of(chunk, 0.9, dense=0.8)
    assert hit.chunk == chunk and (hit.score, hit.dense, hit.lexical) == (0.9, 0.8, 0.0)
    cited = Citation.of(2, hit, 0.7, quote="ten", quote_start=10, quote_end=13)
    assert (cited.number, cited.chunk_id, cited.text, cited.start, cited.title, cited.score) == (
        2, "c1", "ten chars!", 10, "Title", 0.7)
    assert Citation.of(1, chunk, 0.5).paragraph == 3
    assert isinstance(hit, Chunk) and type(hit.chunk) is Chunk and cited.chunk == chunk
    assert list(cited.to_dict())[0] == "number" and set(cited.to_dict()) == {  # the keys of `ask --json`
        "number", "chunk_id", "text", "source", "start", "end", "score", "title", "paragraph", "page", "quote",
        "quote_start", "quote_end", "span_start", "span_end", "facts"}
