"""The index: a Chroma collection plus a manifest that describes it. The only module touching index/.

Chroma's own clients are used directly rather than llama-index's Chroma adapter: the adapter
reports similarity as exp(-distance), hides the ids we derive from content, and has no notion of
"all chunks of this source", which replacing a changed file needs.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .embeddings import Embedder
from .errors import IndexLockedError, IndexMismatchError, IndexMissingError
from .types import Chunk

MANIFEST_VERSION = 1
_BATCH = 1000


@dataclass
class DocumentEntry:
    """What the manifest knows of one indexed document."""

    content_hash: str
    title: str
    chunks: int
    indexed_at: float = 0.0


@dataclass
class Manifest:
    """How the index was built, and what is in it."""

    embed_model: str
    dim: int
    chunk_max_chars: int
    chunking_version: int
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    generation: int = 0

    def to_json(self) -> str:
        """Serialise, documents sorted by source."""
        data = asdict(self)
        data["documents"] = dict(sorted(data["documents"].items()))
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse what :meth:`to_json` wrote."""
        data = json.loads(text)
        data["documents"] = {k: DocumentEntry(**v) for k, v in data.get("documents", {}).items()}
        return cls(**data)

    def check_compatible(self, embed_model: str, dim: int, chunk_max_chars: int, chunking_version: int,
                         where: str) -> None:
        """Raise when the index was built with other settings than the ones in force.

        Raises:
            IndexMismatchError: With the command that rebuilds the index.
        """
        problems = []
        if self.embed_model != embed_model:
            problems.append(f"embedding model {self.embed_model!r}, not {embed_model!r}")
        if self.dim != dim:
            problems.append(f"dimension {self.dim}, not {dim}")
        if self.chunk_max_chars != chunk_max_chars or self.chunking_version != chunking_version:
            problems.append(f"chunks of {self.chunk_max_chars} chars (v{self.chunking_version}), "
                            f"not {chunk_max_chars} (v{chunking_version})")
        if problems:
            raise IndexMismatchError(
                f"The index at {where} was built with {'; '.join(problems)}. Rebuild it with "
                "`assistant index --rebuild corpus/` (or set ASSISTANT_EMBED_MODEL back to "
                f"{self.embed_model!r})."
            )


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its cosine similarity when from a query."""

    chunk: Chunk
    similarity: float = 0.0


class ChromaStore:
    """Chunks and their vectors in Chroma, embedded (``PersistentClient``) or remote (``HttpClient``)."""

    def __init__(self, index_dir: Path, embedder: Embedder, chroma_url: str = "",
                 collection: str = "documents") -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.index_dir = Path(index_dir)
        self.chroma_url = chroma_url
        self._embedder = embedder
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url)
            self._client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                               ssl=url.scheme == "https", settings=chroma_settings)
        else:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(self.index_dir / "chroma"),
                                                     settings=chroma_settings)
        self._collection = self._client.get_or_create_collection(
            name=collection,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        self._manifest_collection_name = collection

    @property
    def where(self) -> str:
        """Where the index lives, for messages."""
        return self.chroma_url or str(self.index_dir)

    # -- manifest -------------------------------------------------------------------------------

    def read_manifest(self) -> Manifest | None:
        """The manifest, or ``None`` for an index that was never written."""
        if self.chroma_url:
            raw = (self._collection.metadata or {}).get("manifest")
            return Manifest.from_json(raw) if raw else None
        path = self.index_dir / "manifest.json"
        return Manifest.from_json(path.read_text(encoding="utf-8")) if path.exists() else None

    def write_manifest(self, manifest: Manifest) -> None:
        """Persist the manifest atomically (a reader sees the old one or the new one)."""
        manifest.generation += 1
        if self.chroma_url:
            self._collection.modify(metadata={"manifest": manifest.to_json()})
            return
        path = self.index_dir / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(manifest.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    def require_manifest(self) -> Manifest:
        """The manifest, or an error naming the command that builds the index."""
        manifest = self.read_manifest()
        if manifest is None:
            raise IndexMissingError(
                f"No index at {self.where}. Build it with `assistant index corpus/` (or `make run`)."
            )
        return manifest

    # -- writing --------------------------------------------------------------------------------

    def write_lock(self, timeout: float = 0.0) -> Any:
        """A lock held while writing; a second writer gets a clear error instead of corrupting.

        Raises:
            IndexLockedError: Another process holds the lock.
        """
        from filelock import FileLock, Timeout

        lock_dir = self.index_dir if not self.chroma_url else Path(os.environ.get("TMPDIR", "/tmp"))
        lock_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_dir / ".write.lock"), timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise IndexLockedError(
                f"Another process is writing to the index at {self.where}. Wait for it to finish, "
                "then run the command again."
            ) from None
        return lock

    def add(self, chunks: list[Chunk], vectors: np.ndarray, content_hash: str) -> None:
        """Add chunks with their vectors (ids already present are overwritten)."""
        for lo in range(0, len(chunks), _BATCH):
            batch = chunks[lo:lo + _BATCH]
            self._collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors[lo:lo + _BATCH],
                documents=[c.text for c in batch],
                metadatas=[_metadata(c, content_hash) for c in batch],
            )

    def delete_source(self, source: str) -> None:
        """Remove every chunk of one source."""
        self._collection.delete(where={"source": source})

    def delete_ids(self, ids: list[str]) -> None:
        """Remove chunks by id."""
        for lo in range(0, len(ids), _BATCH):
            self._collection.delete(ids=ids[lo:lo + _BATCH])

    # -- reading --------------------------------------------------------------------------------

    def count(self) -> int:
        """How many chunks the collection holds."""
        return self._collection.count()

    def iter_chunks(self) -> Iterator[tuple[Chunk, str]]:
        """Every stored chunk with the content hash of its document."""
        total = self.count()
        for offset in range(0, total, 5000):
            got = self._collection.get(include=["documents", "metadatas"], limit=5000, offset=offset)
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield _chunk(chunk_id, text, meta), str(meta.get("content_hash", ""))

    def query(self, vector: np.ndarray, n_results: int) -> list[StoredChunk]:
        """The nearest chunks by cosine similarity, best first."""
        total = self.count()
        if total == 0:
            return []
        got = self._collection.query(
            query_embeddings=[vector], n_results=min(n_results, total),
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(_chunk(i, t, m), 1.0 - float(d))
            for i, t, m, d in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    def get(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (missing ids are left out)."""
        if not ids:
            return []
        got = self._collection.get(ids=ids, include=["documents", "metadatas"])
        by_id = {i: _chunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]


def new_manifest(embed_model: str, dim: int, chunk_max_chars: int, chunking_version: int) -> Manifest:
    """An empty manifest for a fresh index."""
    return Manifest(embed_model=embed_model, dim=dim, chunk_max_chars=chunk_max_chars,
                    chunking_version=chunking_version)


def document_entry(content_hash: str, title: str, chunks: int) -> DocumentEntry:
    """A manifest entry stamped with the current time."""
    return DocumentEntry(content_hash=content_hash, title=title, chunks=chunks, indexed_at=time.time())


def _metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    return {"source": chunk.source, "title": chunk.title, "paragraph": chunk.paragraph,
            "start": chunk.start, "end": chunk.end, "content_hash": content_hash}


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(chunk_id=chunk_id, source=str(meta["source"]), title=str(meta.get("title", "")),
                 paragraph=int(meta.get("paragraph", 0)), start=int(meta["start"]), end=int(meta["end"]),
                 text=text)
