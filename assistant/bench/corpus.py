"""What the performance harness measures on: corpora of real XQuAD passages at any size, and
embedders that cache real vectors on disk (and perturb repeats) or time themselves."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..eval.questions import load_squad
from ..index.indexing import embedded_texts
from ..ingest.chunking import chunk_document
from ..ingest.loaders import content_hash
from ..models.embeddings import Embedder
from ..text.normalize import split_clauses, split_sentences
from ..types import Document
from .runner import _slug


def xquad_paragraphs(xquad_dir: Path) -> dict[str, str]:
    """Every XQuAD-ar and XQuAD-en paragraph, named ``{lang}-p{article}-{paragraph}.txt``.

    Raises:
        ConfigError: The folder lacks ``xquad.ar.json`` or ``xquad.en.json``.
    """
    paragraphs = {}
    for lang in ("ar", "en"):
        path = Path(xquad_dir) / f"xquad.{lang}.json"
        if not path.exists():
            raise ConfigError(f"No {path.name} in {xquad_dir}; pass --xquad-dir with xquad.ar.json and xquad.en.json.")
        for name, text in load_squad(path, limit=0).paragraphs.items():
            paragraphs[f"{lang}-{name}"] = text
    return paragraphs


def indexing_texts(paragraphs: dict[str, str], max_chars: int) -> list[str]:
    """The texts indexing gives e5 for these documents (:func:`~assistant.index.indexing.embedded_texts`),
    a document at a time: its chunks, then their sentences."""
    texts: list[str] = []
    for name, text in paragraphs.items():
        chunks, sentences = embedded_texts(chunk_document(Document(name, name, text, content_hash(text)), max_chars))
        texts += chunks + sentences
    return texts


def passage_pool(paragraphs: Sequence[str], max_chars: int = 1000) -> list[str]:
    """Distinct real passages: each paragraph, sentence, run of consecutive sentences and clause.

    One passage per line makes one chunk, so passages are single-line and at most ``max_chars``
    (under the 1200-character chunk limit). The order is shuffled with a fixed seed so that any
    prefix mixes languages and passage kinds.
    """
    pool: dict[str, None] = {}
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split())
        candidates = [flat] + [c.text for c in split_clauses(flat)]
        sentences = [s.text for s in split_sentences(flat)]
        for width in range(1, len(sentences) + 1):
            candidates += [" ".join(sentences[i:i + width]) for i in range(len(sentences) - width + 1)]
        for text in candidates:
            if 20 <= len(text) <= max_chars:
                pool.setdefault(text, None)
    texts = list(pool)
    random.Random(0).shuffle(texts)
    return texts


def write_corpus(folder: Path, pool: Sequence[str], size: int, per_file: int = 100) -> int:
    """Write ``size`` passages, one per line, ``per_file`` lines per file; returns the copies of the pool used.

    Copy 0 is the pool in order; each further copy is the pool reshuffled (seeded by the copy
    number), so every file differs and is indexed, while its lines repeat earlier texts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written, copy = 0, 0
    while written < size:
        texts = list(pool)
        if copy:
            random.Random(copy).shuffle(texts)
        texts = texts[:size - written]
        for number, lo in enumerate(range(0, len(texts), per_file)):
            (folder / f"c{copy:02d}-{number:04d}.txt").write_text("\n".join(texts[lo:lo + per_file]) + "\n",
                                                                  encoding="utf-8")
        written += len(texts)
        copy += 1
    return copy


class VectorFile:
    """Real vectors of texts already embedded, per model, kept on disk between runs (``.npz``).

    Not :class:`assistant.models.embeddings.VectorFile`: this one outlives the process, is keyed by
    a hash of the text and never forgets (a 100k-chunk bench reuses every vector).
    """

    def __init__(self, folder: Path, model_name: str) -> None:
        self.path = Path(folder) / f"{_slug(model_name)}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        self.dim = 0
        if self.path.exists():
            data = np.load(self.path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            self.dim = int(data["vectors"].shape[1]) if len(data["keys"]) else 0

    @staticmethod
    def key(text: str) -> str:
        """The cache key of a text."""
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        """Write the cache (atomically)."""
        if not self.vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        os.replace(tmp, self.path)


class CachedEmbedder:
    """An embedder that serves vectors of texts it has seen from a :class:`VectorFile`.

    Texts not in the cache are embedded by the real model (loaded on first need) and added.
    With ``perturb`` set, every occurrence of a text after its first gets the real vector plus
    Gaussian noise of that total norm, re-normalised: the repeats of a replicated corpus are
    near-duplicates, not identical points. Used only to *build* benchmark indexes.
    """

    def __init__(self, name: str, load: Callable[[], Embedder], cache: VectorFile, perturb: float = 0.0,
                 precision: str = "fp32") -> None:
        self.name = name
        self.precision = precision  # of the vectors in the cache
        self._load = load
        self._model: Embedder | None = None
        self._cache = cache
        self._perturb = perturb
        self._seen: dict[str, int] = {}
        self.embedded = 0
        self.seconds = 0.0
        self.dim = cache.dim or self._real().dim

    def _real(self) -> Embedder:
        if self._model is None:
            self._model = self._load()
        return self._model

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Cached (or freshly embedded) unit vectors, perturbed for repeats when asked."""
        keys = [VectorFile.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache.vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            started = time.perf_counter()
            fresh = self._real().embed_passages([by_key[k] for k in missing])
            self.seconds += time.perf_counter() - started
            self.embedded += len(missing)
            self._cache.vectors.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        rows = []
        for key in keys:
            vector = self._cache.vectors[key]
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
            if self._perturb and seen:
                rng = np.random.default_rng([int(key[:8], 16), seen])
                noise = rng.standard_normal(vector.shape[0]).astype(np.float32)
                vector = vector + self._perturb * noise / np.linalg.norm(noise)
                vector = vector / np.linalg.norm(vector)
            rows.append(vector)
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Real query vectors (never cached)."""
        return self._real().embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        # Anything else the pipeline may ask of an embedder comes from the real model.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)


class TimedEmbedder:
    """Wraps an embedder, timing its passage calls and keeping the batches it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.precision = inner.precision
        self.seconds = 0.0
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The inner embedder's vectors, timed."""
        started = time.perf_counter()
        vectors = self.inner.embed_passages(texts)
        with self._lock:
            self.seconds += time.perf_counter() - started
            self.batches.append(list(texts))
        return vectors

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """The inner embedder's query vectors (not timed)."""
        return self.inner.embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
