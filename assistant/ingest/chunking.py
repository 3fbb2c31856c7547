"""Document -> Chunks with stable ids and exact character offsets. Pure.

Whole paragraphs are kept where they fit ``max_chars`` (about 350 e5 tokens of Arabic, well under
the 512-token window); longer ones are packed from sentences (``. ! ? ؟ ؛``), and a sentence that is
still too long is cut at ``،`` clauses, then at spaces.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right

from ..text.normalize import Span, normalize_arabic, split_clauses, split_paragraphs, split_sentences
from ..types import Chunk, Document

#: Lines that are page furniture, not content (normalised spelling).
FURNITURE = frozenset({"ذات صله", "مواضيع ذات صله", "اقرا ايضا", "اقرا المزيد", "related", "read more",
                       "share", "advertisement"})

CHUNKING_VERSION = 1


def chunk_id(content_hash: str, start: int, end: int) -> str:
    """A stable id from the document's content and the chunk's place in it."""
    return hashlib.sha256(f"{content_hash}:{start}:{end}".encode()).hexdigest()[:24]


def chunk_document(document: Document, max_chars: int = 1200) -> list[Chunk]:
    """Cut a document into chunks.

    Args:
        document: The document; chunk offsets point into ``document.text``.
        max_chars: The longest chunk, in characters.

    Returns:
        Chunks in document order, each with ``document.text[start:end] == chunk.text``.
    """
    chunks: list[Chunk] = []
    for number, paragraph in enumerate(split_paragraphs(document.text), start=1):
        if is_furniture(paragraph.text):
            continue
        for span in _pack(document.text, paragraph, max_chars):
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(document.content_hash, span.start, span.end),
                    source=document.source,
                    title=document.title,
                    paragraph=number,
                    start=span.start,
                    end=span.end,
                    text=span.text,
                    page=bisect_right(document.pages, span.start) if document.pages else 0,
                )
            )
    return chunks


def chunk_sentences(chunk: Chunk, min_chars: int = 25) -> list[Span]:
    """The sentences of a chunk, in source offsets; fragments under ``min_chars`` join the one before.

    Indexing embeds these and the answerer quotes them, so both must cut the same way.
    """
    spans = split_sentences(chunk.text)
    merged: list[Span] = []
    for span in spans:
        if merged and span.end - span.start < min_chars:
            last = merged[-1]
            merged[-1] = Span(last.start, span.end, chunk.text[last.start:span.end])
        else:
            merged.append(span)
    return [Span(chunk.start + s.start, chunk.start + s.end, s.text) for s in merged]


def sentence_id(chunk_id: str, index: int) -> str:
    """The id of a chunk's ``index``-th sentence vector."""
    return f"{chunk_id}:{index}"


def is_furniture(line: str) -> bool:
    """True for lines such as "ذات صلة" (related) that belong to the page, not the article."""
    folded = " ".join(normalize_arabic(line).strip(" :.-|").split())
    return folded in FURNITURE


def _pack(text: str, paragraph: Span, max_chars: int) -> list[Span]:
    if paragraph.end - paragraph.start <= max_chars:
        return [paragraph]
    pieces: list[Span] = []
    for sentence in split_sentences(text, paragraph.start, paragraph.end):
        pieces.extend(_fit(text, sentence, max_chars))
    packed: list[Span] = []
    start, end = pieces[0].start, pieces[0].end
    for piece in pieces[1:]:
        if piece.end - start <= max_chars:
            end = piece.end
        else:
            packed.append(Span(start, end, text[start:end]))
            start, end = piece.start, piece.end
    packed.append(Span(start, end, text[start:end]))
    return packed


def _fit(text: str, sentence: Span, max_chars: int) -> list[Span]:
    if sentence.end - sentence.start <= max_chars:
        return [sentence]
    clauses = split_clauses(text, sentence.start, sentence.end)
    if len(clauses) > 1:
        return [piece for clause in clauses for piece in _fit(text, clause, max_chars)]
    return _cut_at_spaces(text, sentence, max_chars)


def _cut_at_spaces(text: str, span: Span, max_chars: int) -> list[Span]:
    pieces = []
    start = span.start
    while start < span.end:
        end = min(start + max_chars, span.end)
        if end < span.end:
            space = text.rfind(" ", start + max_chars // 2, end)
            end = space if space > start else end
        piece = text[start:end].strip()
        if piece:
            offset = start + text[start:end].index(piece)
            pieces.append(Span(offset, offset + len(piece), piece))
        start = end
    return pieces
