"""Property-based tests (hypothesis): chunking and normalisation invariants on random Arabic/English text."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.chunking import chunk_document, chunk_id, chunk_sentences, is_furniture
from assistant.ingest.loaders import content_hash, decode_bytes
from assistant.text.normalize import normalize_arabic, split_paragraphs, strip_invisible, tokenize
from assistant.types import Document

AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةىٱ"
AR_MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640"  # harakat, dagger alef, tatweel
AR_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"
FURNITURE = ["ذات صلة", "اقرأ أيضاً", "Read more", "Related", "share", "مواضيع ذات صلة:"]
SEPARATORS = [" ", " ", " ", " ", ", ", "، ", ". ", "? ", "؟ ", "! ", "؛ ", "... ", "  ", "\t", " - ", "» ", ": "]

words = st.one_of(
    st.text(AR_LETTERS + AR_MARKS, min_size=1, max_size=9),
    st.text(string.ascii_letters, min_size=1, max_size=10),
    st.text(string.digits + AR_DIGITS + ".", min_size=1, max_size=5),
)
sentences = st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), min_size=1, max_size=80).map(
    lambda pairs: "".join(w + s for w, s in pairs))
#: A run with no space or punctuation, longer than a chunk: it must be cut, not dropped.
unbroken = st.text(AR_LETTERS + string.ascii_letters + AR_MARKS, min_size=150, max_size=700)
lines = st.one_of(sentences, sentences, sentences, unbroken, st.sampled_from(FURNITURE), st.just(""), st.just("   "))
documents = st.lists(lines, min_size=1, max_size=15).map("\n".join)
#: Anything at all, for robustness: chunking must not fail and offsets must still map back.
any_text = st.text(min_size=0, max_size=3000)
max_chars = st.sampled_from([200, 320, 1200])

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chunks(text: str, limit: int, source: str = "doc.txt") -> list:
    return chunk_document(Document(source, "Title", text, content_hash(text)), limit)


@FAST
@given(text=st.one_of(documents, any_text), limit=max_chars)
def test_chunk_offsets_map_back_exactly_in_order_and_within_the_limit(text: str, limit: int) -> None:
    chunks = _chunks(text, limit)
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text and chunk.text.strip() == chunk.text
        assert 0 < chunk.end - chunk.start <= limit
        for sentence in chunk_sentences(chunk):
            assert text[sentence.start:sentence.end] == sentence.text
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))  # ordered, no overlap


@FAST
@given(text=documents, limit=max_chars)
def test_chunks_cover_every_character_that_is_not_furniture_or_space(text: str, limit: int) -> None:
    covered = bytearray(len(text))
    for chunk in _chunks(text, limit):
        covered[chunk.start:chunk.end] = b"\x01" * (chunk.end - chunk.start)
    furniture = bytearray(len(text))
    for paragraph in split_paragraphs(text):
        if is_furniture(paragraph.text):
            furniture[paragraph.start:paragraph.end] = b"\x01" * (paragraph.end - paragraph.start)
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i] and not furniture[i]]
    assert not lost, f"characters in no chunk: {[text[i] for i in lost[:10]]} at {lost[:10]}"


@FAST
@given(text=st.one_of(documents, any_text), limit=max_chars)
def test_chunk_ids_are_stable_unique_and_follow_from_content(text: str, limit: int) -> None:
    first = _chunks(text, limit)
    again = _chunks(text, limit, source="renamed/doc.txt")  # the same content under another name
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    digest = content_hash(text)
    assert all(c.chunk_id == chunk_id(digest, c.start, c.end) for c in first)


@FAST
@given(text=st.one_of(documents, any_text))
def test_normalisation_is_idempotent_and_maps_every_digit(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once
    assert not any(ch in AR_DIGITS for ch in once)
    assert sum(ch.isdigit() for ch in once if ch.isascii()) >= sum(ch in AR_DIGITS for ch in text)
    assert tokenize(once) == tokenize(text)


@FAST
@given(text=st.one_of(documents, any_text))
def test_invisible_characters_are_stripped_once_and_for_all(text: str) -> None:
    marked = "\u202e" + text + "\u200f\x00"
    clean = strip_invisible(marked)
    assert strip_invisible(clean) == clean
    assert not any(ch in clean for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\x00")


@FAST
@given(text=documents.filter(lambda t: t.strip()))
def test_utf8_and_utf16_text_decodes_to_itself(text: str) -> None:
    for encoded in (text.encode("utf-8"), text.encode("utf-16"), "\ufeff".encode() + text.encode()):
        assert decode_bytes(encoded) == text


@FAST
@given(sentences, st.lists(st.integers(min_value=0, max_value=200), max_size=6), sentences)
def test_a_leading_number_is_one_the_quote_gives_and_the_question_does_not(quote, picks, extra):
    from assistant.answer.analysis import pin_short_answer
    from assistant.text.normalize import numbers_in

    # Questions that borrow words (and numbers) from the quote, as real ones do.
    words = quote.split()
    question = " ".join([words[i % len(words)] for i in picks] if words else []) + " " + extra
    pinned = pin_short_answer("number", quote, tokenize(question))
    if pinned:
        assert pinned in numbers_in(quote)
        assert pinned not in numbers_in(" ".join(tokenize(question)))
    assert pin_short_answer("number", quote, tokenize(question), across=True) == ""
