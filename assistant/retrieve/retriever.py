"""Question -> ranked Hits: dense (Chroma) and lexical (BM25) search, fused. No LLM."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import FusionWeights
from ..index.store import CHUNKS, SECOND_CHUNKS, SECOND_SENTENCES, SENTENCES, ChromaStore
from ..models.embeddings import Encoders
from ..text.glossary import Glossary, folded_tokens
from ..text.normalize import tokenize
from ..types import Chunk, Hit


@dataclass(frozen=True)
class QueryVectors:
    """A question embedded by each encoder."""

    primary: np.ndarray
    second: np.ndarray | None = None


def lexical_coverage(query_tokens: list[str], vocabulary: set[str] | dict[str, int]) -> float:
    """The share of the question's search tokens that occur anywhere in the corpus.

    An English question about an Arabic corpus shares almost none (names and digits at most), so
    BM25 has nothing to say about it and must not outvote the multilingual dense signals.
    """
    if not query_tokens:
        return 0.0
    return sum(1 for t in query_tokens if t in vocabulary) / len(query_tokens)


def fuse(signals: dict[str, dict[str, float]], weights: dict[str, float]) -> list[tuple[str, float]]:
    """Combine several rankings into one by a weighted sum of z-scores. Pure.

    Each signal is z-scored over its own candidates; an id a signal did not return gets that
    signal's lowest score. A flat signal (all scores equal, e.g. BM25 with no matching word)
    contributes nothing. Rank-based fusion (RRF) lets a signal that knows nothing, such as BM25
    on a question in another language, outvote the ones that do; z-scores keep its say small.

    Args:
        signals: Signal name -> ``{chunk id: raw score}``.
        weights: Signal name -> weight (a missing or zero weight drops the signal).

    Returns:
        ``(chunk_id, score)`` pairs, best first; ties broken by chunk id for stability.
    """
    candidates: set[str] = set()
    terms = []
    for name, scores in signals.items():
        weight = weights.get(name, 0.0)
        if not scores or weight <= 0:
            continue
        candidates.update(scores)
        values = np.fromiter(scores.values(), dtype=float)
        spread = values.std()
        if spread < 1e-9:
            continue
        terms.append((weight, scores, float(values.mean()), float(spread), float(values.min())))
    fused = [
        (i, sum(w * (scores.get(i, floor) - mean) / spread for w, scores, mean, spread, floor in terms))
        for i in candidates
    ]
    fused.sort(key=lambda pair: (-pair[1], pair[0]))
    return fused


def max_by_chunk(found: list[tuple[str, str, float]]) -> dict[str, float]:
    """Sentence-level similarities pooled to their chunks by maximum."""
    pooled: dict[str, float] = {}
    for _, chunk_id, similarity in found:
        if similarity > pooled.get(chunk_id, -np.inf):
            pooled[chunk_id] = similarity
    return pooled


class LexicalIndex:
    """BM25 (bm25s) over Arabic-normalised, lightly stemmed tokens of every chunk.

    ``tokens`` splits a text into the terms indexed: :func:`tokenize` for the question's own words,
    :func:`assistant.text.glossary.folded_tokens` for glossary translations.
    """

    def __init__(self, chunks: list[Chunk], tokens: Callable[[str], list[str]] = tokenize) -> None:
        import bm25s

        self.chunks = chunks
        self.ids = [c.chunk_id for c in chunks]
        corpus = [tokens(c.text) or [""] for c in chunks]
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
    """Dense (e5 and USE, chunks and sentences) + lexical retrieval over one store, fused.

    With a glossary, a question's words also search text in the other language through their
    translations (the ``bridge`` signal). Thread-safe; the BM25 side follows index updates.
    """

    def __init__(self, store: ChromaStore, encoders: Encoders, weights: FusionWeights,
                 glossary: Glossary | None = None) -> None:
        self._store = store
        self._encoders = encoders
        self.weights = weights
        self.glossary = glossary
        self._lexical: LexicalIndex | None = None
        self._bridge: LexicalIndex | None = None
        self._generation = -1
        self._lock = threading.Lock()

    def lexical_indexes(self) -> tuple[LexicalIndex, LexicalIndex | None]:
        """The BM25 index and, with a glossary, the one glossary translations search; rebuilt
        when the index has changed since they were built (by this process or any other: the store
        catches up first)."""
        generation = self._store.refresh()
        with self._lock:
            if self._lexical is None or generation != self._generation:
                chunks = [chunk for chunk, _ in self._store.iter_chunks()]
                self._lexical = LexicalIndex(chunks)
                self._bridge = LexicalIndex(chunks, folded_tokens) if self.glossary is not None else None
                self._generation = generation
            return self._lexical, self._bridge

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index over the question's own words."""
        return self.lexical_indexes()[0]

    def embed(self, question: str) -> QueryVectors:
        """The question's vectors, one per encoder."""
        primary = self._encoders.primary.embed_queries([question])[0]
        second = self._encoders.second.embed_queries([question])[0] if self._encoders.second else None
        return QueryVectors(primary, second)

    def retrieve(self, question: str, top_k: int) -> list[Hit]:
        """The ``top_k`` best chunks for a question, best first."""
        return self.retrieve_with_vectors(question, self.embed(question), top_k)

    def signals(self, question: str, vectors: QueryVectors,
                n: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
        """Every signal's candidates ``{name: {chunk id: score}}``, and how much of the question the
        lexical signals cover: ``{"lexical": share of its words in the corpus, "bridge": share the
        glossary translates}``."""
        store = self._store
        lexical_index, bridge_index = self.lexical_indexes()  # first: it brings the store up to date
        signals = {
            "dense": {chunk_id: sim for _, chunk_id, sim in store.query_space(CHUNKS, vectors.primary, n)},
            "dense_sentences": max_by_chunk(store.query_space(SENTENCES, vectors.primary, 3 * n)),
        }
        if vectors.second is not None:
            signals["second"] = {c: sim for _, c, sim in store.query_space(SECOND_CHUNKS, vectors.second, n)}
            signals["second_sentences"] = max_by_chunk(store.query_space(SECOND_SENTENCES, vectors.second, 3 * n))
        tokens = tokenize(question)
        signals["lexical"] = lexical_index.scores(tokens, n)
        coverage = {"lexical": lexical_coverage(tokens, lexical_index.vocabulary), "bridge": 0.0}
        if self.glossary is not None and bridge_index is not None:
            translated, coverage["bridge"] = self.glossary.translate(tokens, bridge_index.vocabulary)
            signals["bridge"] = bridge_index.scores(translated, n)
        return signals, coverage

    def retrieve_with_vectors(self, question: str, vectors: QueryVectors, top_k: int) -> list[Hit]:
        """As :meth:`retrieve`, with the question's vectors already computed."""
        signals, coverage = self.signals(question, vectors, max(self.weights.candidates, top_k))
        w = self.weights
        weights = {"dense": w.dense, "dense_sentences": w.dense_sentences, "second": w.second,
                   "second_sentences": w.second_sentences, "lexical": w.lexical * coverage["lexical"],
                   "bridge": w.bridge * coverage["bridge"]}
        ranked = fuse(signals, weights)[:top_k]
        chunks = {c.chunk_id: c for c in self._store.get([i for i, _ in ranked])}
        dense, lexical = signals["dense"], signals["lexical"]
        return [
            Hit.of(chunks[i], round(score, 6), dense=round(dense.get(i, 0.0), 6), lexical=round(lexical.get(i, 0.0), 6))
            for i, score in ranked if i in chunks
        ]
