"""Fused hits -> hits reordered by a cross-encoder, when one is configured.

No multilingual cross-encoder ships inside a registry package, so reranking is off by default and
turns on when ``ASSISTANT_RERANK_MODEL`` names a sentence-transformers ``CrossEncoder`` (a model
folder, or a hub name already in the local cache: nothing is downloaded). It reads the fused
candidates, ``rerank_depth`` of them, and orders them by how well each passage answers the question,
which a bi-encoder's similarity only approximates.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from .embeddings import quiet_model_loading
from .errors import ConfigError
from .types import Hit


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


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` as a :class:`Reranker`."""

    def __init__(self, name: str, batch_size: int = 16) -> None:
        from sentence_transformers import CrossEncoder

        quiet_model_loading()
        try:
            self._model = CrossEncoder(name, local_files_only=True)
        except Exception as error:  # noqa: BLE001 - any load failure gets the same advice
            raise ConfigError(
                f"Cannot load the reranker {name!r} ({type(error).__name__}: {str(error)[:200]}); set "
                "ASSISTANT_RERANK_MODEL to a sentence-transformers CrossEncoder folder, or unset it to rank "
                "without one."
            ) from error
        self.name = name
        self._batch_size = batch_size

    def scores(self, question: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        found = self._model.predict([(question, p) for p in passages], batch_size=self._batch_size,
                                    show_progress_bar=False)
        return [float(s) for s in found]
