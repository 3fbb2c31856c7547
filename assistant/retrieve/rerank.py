"""Fused hits -> hits reordered by a cross-encoder, when one is configured.

No multilingual cross-encoder ships inside a registry package, so reranking is off by default and
turns on when ``ASSISTANT_RERANK_MODEL`` names a sentence-transformers ``CrossEncoder`` (a model
folder, or a hub name already in the local cache: nothing is downloaded). It reads the fused
candidates, ``rerank_depth`` of them, and orders them by how well each passage answers the question,
which a bi-encoder's similarity only approximates. The model itself loads in
:mod:`assistant.models.embeddings` (``CrossEncoderReranker``), with the other models.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..types import Hit


class Reranker(Protocol):
    """Scores passages against a question; higher is better."""

    name: str

    def scores(self, question: str, passages: list[str]) -> list[float]:
        """One score per passage."""
        ...


def rerank(hits: list[Hit], scores: list[float], top_k: int) -> list[Hit]:
    """The ``top_k`` hits in the reranker's order, each carrying its reranker score. Pure.

    Ties keep the fused order, so a reranker that cannot tell passages apart changes nothing.
    """
    if len(scores) != len(hits):
        raise ValueError(f"{len(scores)} reranker scores for {len(hits)} hits")
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
    return [replace(hits[i], score=round(float(scores[i]), 6)) for i in order[:top_k]]
