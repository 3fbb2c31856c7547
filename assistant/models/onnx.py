"""e5 and the reader on ONNX Runtime: what a question runs on, so answering never imports torch.

Why a second runtime: importing torch, transformers and sentence-transformers costs seconds of CPU
before the first question can be embedded, onnxruntime and tokenizers a fraction of that
(docs/measurements.md). Questions run here in fp32. Indexing runs here too in int8 (ONNX Runtime's int8
matrix products use AVX-512 VNNI, faster than torch fp32 on the texts indexing embeds), or on torch
in bf16 or fp32; all three make vectors that mix (:mod:`assistant.models.precision`).

``assistant prepare`` writes the files (:mod:`assistant.models.onnx_export`) into one folder of the model
cache:

- ``embeddings.npy``: the word-embedding table (250k x 384, fp32), shared by both graphs and
  memory-mapped, so only the rows of tokens actually read take memory (the table is 3/4 of e5's
  weights and the reader's adapter never changes it);
- ``e5.onnx``: the encoder from token vectors to hidden states, and ``e5.int8.onnx``, the same with
  int8 weights, which indexing runs on when ``ASSISTANT_PRECISION=int8`` (the default);
- ``reader-<adapter digest>.onnx``: the merged reader from token vectors to span logits, and
  ``reader-<adapter digest>.int8.onnx``, the same with int8 weights;
- ``tokenizer.json``, and ``export.json`` written last (a folder without it is incomplete).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the files' layout or contents change; an older folder is exported again (2: the int8
#: graphs keep their feed-forward output products in fp32).
EXPORT_FORMAT = 2
MARKER = "export.json"
#: e5's prompts (its ``config_sentence_transformers.json``) and sentence-transformers' length limit.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_TOKENS = 512


def onnx_folder(model_cache: Path, e5_name: str) -> Path:
    """Where the ONNX files for the converted e5 folder named ``e5_name`` live."""
    return Path(model_cache) / f"onnx-{e5_name}"


def e5_file(folder: Path, weights: str = "fp32") -> Path:
    """The e5 graph with ``fp32`` or ``int8`` weights."""
    return folder / ("e5.onnx" if weights == "fp32" else f"e5.{weights}.onnx")


def reader_file(folder: Path, adapter_digest: str, weights: str = "fp32") -> Path:
    """The reader graph for the adapter whose files hash to ``adapter_digest``, with ``fp32`` or
    ``int8`` weights."""
    suffix = "" if weights == "fp32" else f".{weights}"
    return folder / f"reader-{adapter_digest}{suffix}.onnx"


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished export in this format."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("format") == EXPORT_FORMAT and all(
        (folder / name).is_file() for name in ("e5.onnx", "embeddings.npy", "tokenizer.json"))


class OnnxLoadError(Exception):
    """An exported graph that ONNX Runtime cannot load (a damaged or truncated file)."""


def load_session(path: Path, threads: int = 2) -> Any:
    """:func:`session`, with any failure of ONNX Runtime's (it raises its own kinds) as :class:`OnnxLoadError`."""
    try:
        return session(path, threads)
    except Exception as error:  # noqa: BLE001 - onnxruntime's exception types are not public
        raise OnnxLoadError(f"{path.name}: {type(error).__name__}") from error


def session(path: Path, threads: int = 2, keep_optimized: bool = True) -> Any:
    """An ONNX Runtime session for the graph at ``path``.

    ONNX Runtime optimises a graph every time it loads one, which costs more than loading it; the
    optimised graph is kept beside the original, named by the runtime's version, and later sessions
    load it as it is. A cache that cannot be written only costs the optimisation each time.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its warnings about unused initialisers are not the user's concern
    # Idle threads sleep instead of spinning: a spinning pool on two shared cores takes the CPU the
    # other work of the question needs (warm asks were faster without it on a busy machine: docs/precision.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    optimized = path.with_name(f"{path.stem}.ort-{ort.__version__}.onnx")
    if not keep_optimized:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    if optimized.is_file():
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimized), options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged copy: optimise the original again below
            optimized.unlink(missing_ok=True)
    # Extended, not all: the "all" level adds layout changes tied to this very CPU.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    partial = optimized.with_name(f".{optimized.name}.{os.getpid()}.partial")
    options.optimized_model_filepath = str(partial)
    try:
        result = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        os.replace(partial, optimized)
    except OSError:
        result = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    finally:
        partial.unlink(missing_ok=True)
    return result


def _tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    return tokenizer


class TokenVectors:
    """The shared word-embedding table, memory-mapped: token ids -> the vectors both graphs take."""

    def __init__(self, folder: Path) -> None:
        self.table = np.load(folder / "embeddings.npy", mmap_mode="r")

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.table[ids], dtype=np.float32)


def padded(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token rows right-padded into ``(ids, attention mask)`` int64 arrays."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
        mask[k, : len(row)] = 1
    return ids, mask


def pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """e5's sentence vectors: the mean of the hidden states over each row's tokens, unit length."""
    weights = mask[:, :, None].astype(np.float32)
    means = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class OnnxFiles:
    """An exported folder, opened: the token table and the tokenizer both graphs share.

    One tokenizer serves every caller because loading e5's (250k pieces) is slow; each
    caller sets its own truncation while holding ``tokenizer_lock``.
    """

    folder: Path
    vectors: TokenVectors
    tokenizer: Any
    pad_id: int
    tokenizer_lock: Any = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, folder: Path) -> OnnxFiles:
        tokenizer = _tokenizer(folder)
        pad_id = tokenizer.token_to_id("<pad>")
        return cls(folder, TokenVectors(folder), tokenizer, 1 if pad_id is None else int(pad_id))


class OnnxEmbedder:
    """multilingual-e5-small on ONNX Runtime: the same vectors as the sentence-transformers model in
    fp32 (mean of the last hidden states over the tokens, unit length, e5's query/passage prompts),
    or with ``weights="int8"`` vectors close to them (how close: docs/precision.md).

    Raises:
        OnnxLoadError: The graph is missing or damaged.
    """

    def __init__(self, files: OnnxFiles, name: str, threads: int = 2, batch_size: int = 32,
                 weights: str = "fp32") -> None:
        self._files = files
        self._session = load_session(e5_file(files.folder, weights), threads)
        self.name = name
        self.dim = int(files.vectors.table.shape[1])
        self.precision = weights
        self.note = ""
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one session on two cores: queue concurrent callers

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length query vectors (float32), one row per text."""
        return self._encode([QUERY_PREFIX + t for t in texts])

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length passage vectors (float32), one row per text."""
        return self._encode([PASSAGE_PREFIX + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._files.tokenizer_lock:
            self._files.tokenizer.no_truncation()
            self._files.tokenizer.enable_truncation(MAX_TOKENS)
            encodings = self._files.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda k: len(encodings[k].ids))  # similar lengths pad less
        with self._lock:
            for b in range(0, len(order), self._batch_size):
                rows = order[b : b + self._batch_size]
                ids, mask = padded([encodings[k].ids for k in rows], self._files.pad_id)
                hidden = self._session.run(None, {"inputs_embeds": self._files.vectors(ids),
                                                  "attention_mask": mask})[0]
                out[rows] = pooled(hidden, mask)
        return out


class OnnxSpanLogits:
    """The merged reader on ONNX Runtime: token ids and mask -> start and end logits (fp32)."""

    def __init__(self, files: OnnxFiles, path: Path, threads: int = 2) -> None:
        self._files = files
        self.path = path
        self._session = load_session(path, threads)

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, end = self._session.run(None, {"inputs_embeds": self._files.vectors(ids), "attention_mask": mask})
        return start, end
