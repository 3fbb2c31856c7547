"""Question -> ranked Hits: dense (Chroma) and lexical (BM25) search, fused. No LLM."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .embeddings import Embedder
from .store import ChromaStore
from .text import tokenize
from .types import Chunk, Hit


@dataclass(frozen=True)
class FusionWeights:
    """How dense and lexical evidence combine (see :func:`fuse`)."""

    lexical: float = 0.3
    candidates: int = 50


def lexical_coverage(query_tokens: list[str], vocabulary: set[str] | dict[str, int]) -> float:
    """The share of the question's search tokens that occur anywhere in the corpus.

    An English question about an Arabic corpus shares almost none (names and digits at most), so
    BM25 has nothing to say about it and must not outvote the multilingual dense signal.
    """
    if not query_tokens:
        return 0.0
    return sum(1 for t in query_tokens if t in vocabulary) / len(query_tokens)


def fuse(dense: dict[str, float], lexical: dict[str, float], coverage: float,
         weights: FusionWeights) -> list[tuple[str, float]]:
    """Combine dense cosine similarities and BM25 scores into one ranking. Pure.

    Both signals are min-max normalised over the candidates; BM25's weight is scaled by
    ``coverage`` so that it fades out for questions whose words the corpus does not contain
    (naive reciprocal-rank fusion lets BM25 noise outvote dense retrieval across languages).

    Args:
        dense: Chunk id -> cosine similarity, for the dense candidates.
        lexical: Chunk id -> BM25 score, for the lexical candidates.
        coverage: :func:`lexical_coverage` of the question, 0..1.
        weights: Fusion weights.

    Returns:
        ``(chunk_id, score)`` pairs, best first; ties broken by chunk id for stability.
    """
    ids = set(dense) | set(lexical)
    if not ids:
        return []
    d_norm = _minmax(dense, ids)
    l_norm = _minmax(lexical, ids)
    w = weights.lexical * coverage
    scored = [(i, (1.0 - w) * d_norm[i] + w * l_norm[i]) for i in ids]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored


def _minmax(scores: dict[str, float], ids: set[str]) -> dict[str, float]:
    if not scores:
        return {i: 0.0 for i in ids}
    floor = min(scores.values())
    top = max(scores.values())
    span = top - floor
    if span <= 0:
        return {i: (1.0 if i in scores else 0.0) for i in ids}
    return {i: (scores[i] - floor) / span if i in scores else 0.0 for i in ids}


class LexicalIndex:
    """BM25 (bm25s) over Arabic-normalised, lightly stemmed tokens of every chunk."""

    def __init__(self, chunks: list[Chunk]) -> None:
        import bm25s

        self.chunks = chunks
        self.ids = [c.chunk_id for c in chunks]
        corpus = [tokenize(c.text) or [""] for c in chunks]
        self.vocabulary = {t for tokens in corpus for t in tokens}
        self._bm25 = bm25s.BM25()
        if chunks:
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query_tokens: list[str], limit: int) -> dict[str, float]:
        """The best ``limit`` chunks with a positive BM25 score."""
        known = [t for t in query_tokens if t in self.vocabulary]
        if not known or not self.chunks:
            return {}
        scores = self._bm25.get_scores(known)
        top = np.argsort(-scores)[:limit]
        return {self.ids[i]: float(scores[i]) for i in top if scores[i] > 0}


class Retriever:
    """Dense + lexical retrieval over one store. Thread-safe; the BM25 side follows index updates."""

    def __init__(self, store: ChromaStore, embedder: Embedder, weights: FusionWeights) -> None:
        self._store = store
        self._embedder = embedder
        self.weights = weights
        self._lexical: LexicalIndex | None = None
        self._generation = -1
        self._lock = threading.Lock()

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index, rebuilt when the store's manifest has changed since it was built."""
        manifest = self._store.read_manifest()
        generation = manifest.generation if manifest else 0
        with self._lock:
            if self._lexical is None or generation != self._generation:
                self._lexical = LexicalIndex([chunk for chunk, _ in self._store.iter_chunks()])
                self._generation = generation
            return self._lexical

    def retrieve(self, question: str, top_k: int) -> list[Hit]:
        """The ``top_k`` best chunks for a question, best first."""
        vector = self._embedder.embed_queries([question])[0]
        return self.retrieve_with_vector(question, vector, top_k)

    def retrieve_with_vector(self, question: str, vector: np.ndarray, top_k: int) -> list[Hit]:
        """As :meth:`retrieve`, with the question's vector already computed."""
        n = max(self.weights.candidates, top_k)
        dense_found = self._store.query(vector, n)
        dense = {s.chunk.chunk_id: s.similarity for s in dense_found}
        lexical_index = self.lexical_index()
        tokens = tokenize(question)
        lexical = lexical_index.scores(tokens, n)
        coverage = lexical_coverage(tokens, lexical_index.vocabulary)
        ranked = fuse(dense, lexical, coverage, self.weights)[:top_k]
        chunks = {s.chunk.chunk_id: s.chunk for s in dense_found}
        missing = [i for i, _ in ranked if i not in chunks]
        if missing:
            chunks.update({c.chunk_id: c for c in self._store.get(missing)})
        hits = []
        for chunk_id, score in ranked:
            chunk = chunks.get(chunk_id)
            if chunk is None:
                continue
            hits.append(Hit(chunk_id=chunk_id, text=chunk.text, source=chunk.source, start=chunk.start,
                            end=chunk.end, score=round(score, 6), title=chunk.title, paragraph=chunk.paragraph,
                            dense=round(dense.get(chunk_id, 0.0), 6), lexical=round(lexical.get(chunk_id, 0.0), 6)))
        return hits
