"""The index: a Chroma collection plus its manifest (:mod:`.manifest`) and write locks (:mod:`.locks`).
The only module touching index/.

Chroma's own clients are used directly rather than llama-index's Chroma adapter: the adapter
reports similarity as exp(-distance), hides the ids we derive from content, and has no notion of
"all chunks of this source", which replacing a changed file needs.

Two deployments, one behaviour:

* embedded (``PersistentClient`` under ``index/chroma``): the manifest is ``index/manifest.json``
  and writers are serialised by the file lock ``index/.write.lock``;
* server (``ASSISTANT_CHROMA_URL``, ``HttpClient``): the manifest lives in the main collection's
  metadata, so every app process sharing the server sees the same index. A file lock would only
  guard one machine, so writers take a lease instead: a record in the ``<collection>__meta``
  collection, added only if absent (Chroma ignores an ``add`` of an existing id, which makes it a
  compare-and-set) and checked by reading it back. A crashed writer's lease expires after
  ``LEASE_SECONDS``; a live writer renews it as it goes. The same collection's metadata carries the
  manifest generation, so readers notice new documents without downloading the manifest.

Every write of the manifest moves its ``generation`` counter, and every reader checks it before a
question (:meth:`ChromaStore.refresh`: one tiny file read, or one request to the server). Embedded
Chroma keeps each collection's vector index in process memory and never reloads it when another
process writes (a query would miss the other process's chunks), so a moved counter reopens the
client there; the server needs no reopening. Callers rebuild what they derived (BM25) on a move.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexMissingError
from ..types import Chunk
from .locks import WriteLock, _FileWriteLock, _Lease
from .manifest import Manifest

#: Beside manifest.json (embedded): the manifest's generation counter alone, cheap to read per question.
GENERATION_FILE = "generation"
_BATCH = 1000

#: Vector spaces: e5 over chunks (the main collection, holding text and offsets), e5 over
#: sentences, and the second embedder (multilingual USE) over chunks and over sentences.
CHUNKS, SENTENCES, SECOND_CHUNKS, SECOND_SENTENCES = "chunks", "sentences", "use", "use_sentences"
SPACES = (CHUNKS, SENTENCES, SECOND_CHUNKS, SECOND_SENTENCES)



@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its cosine similarity when from a query."""

    chunk: Chunk
    similarity: float = 0.0


class ChromaStore:
    """Chunks and their vectors in Chroma, embedded (``PersistentClient``) or remote (``HttpClient``)."""

    def __init__(self, index_dir: Path, chroma_url: str = "", collection: str = "documents") -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.index_dir = Path(index_dir)
        self.chroma_url = chroma_url
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url)
            self._client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                               ssl=url.scheme == "https", settings=chroma_settings)
        else:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._client = _embedded_client(self.index_dir / "chroma")
        self._collection_name = collection
        self._open_spaces()
        # Server mode only: the write lease and the manifest generation (see the module docstring).
        self._meta = self._client.get_or_create_collection(name=f"{collection}__meta", embedding_function=None) \
            if chroma_url else None
        self._seen = self.generation()
        self._refresh_lock = threading.Lock()

    def _open_spaces(self) -> None:
        # One collection per vector space: chunks and sentences, for each embedder. Chunks keep
        # their text and offsets; the other spaces point back to a chunk by id.
        name = self._collection_name
        self._spaces = {
            space: self._client.get_or_create_collection(
                name=name if space == CHUNKS else f"{name}__{space}",
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            for space in SPACES
        }
        self._collection = self._spaces[CHUNKS]

    @property
    def where(self) -> str:
        """Where the index lives, for messages."""
        return self.chroma_url or str(self.index_dir)

    # -- manifest -------------------------------------------------------------------------------

    def read_manifest(self) -> Manifest | None:
        """The manifest, or ``None`` for an index that was never written."""
        if self.chroma_url:
            # Fetched afresh: another process may have written it since this one opened the store.
            raw = (self._client.get_collection(self._collection_name).metadata or {}).get("manifest")
            return Manifest.from_json(raw) if raw else None
        path = self.index_dir / "manifest.json"
        return Manifest.from_json(path.read_text(encoding="utf-8")) if path.exists() else None

    def write_manifest(self, manifest: Manifest) -> None:
        """Persist the manifest atomically (a reader sees the old one or the new one) and move the
        generation counter that other processes watch."""
        manifest.generation = max(manifest.generation, self.generation()) + 1
        if self.chroma_url:
            assert self._meta is not None
            self._collection.modify(metadata={"manifest": manifest.to_json()})
            self._meta.modify(metadata={"generation": manifest.generation})
        else:
            _write_atomically(self.index_dir / "manifest.json", manifest.to_json())
            _write_atomically(self.index_dir / GENERATION_FILE, str(manifest.generation))
        self._seen = manifest.generation  # this process's own write is already in its memory

    def generation(self) -> int:
        """The manifest's write counter, read cheaply: a tiny file beside it, or the server's copy."""
        if self.chroma_url:
            meta = self._client.get_collection(f"{self._collection_name}__meta").metadata or {}
            return int(meta.get("generation", 0))
        try:
            return int((self.index_dir / GENERATION_FILE).read_text(encoding="ascii") or 0)
        except (FileNotFoundError, ValueError):
            # An index written before the counter had its own file (or a torn first write): the manifest's.
            manifest = self.read_manifest()
            return manifest.generation if manifest is not None else 0

    def refresh(self) -> int:
        """Catch up with writes by other processes; returns the generation now in view.

        Call it before answering a question. When the counter moved, an embedded store reopens its
        Chroma client so that its queries see the other process's vectors (see the module docstring).
        """
        generation = self.generation()
        if generation == self._seen:
            return generation
        with self._refresh_lock:
            if generation != self._seen:
                if not self.chroma_url:
                    self._client = _embedded_client(self.index_dir / "chroma", stale=self._client)
                self._open_spaces()  # a rebuild elsewhere may have recreated the collections
                self._seen = generation
        return generation

    def require_manifest(self) -> Manifest:
        """The manifest, or an error naming the command that builds the index."""
        manifest = self.read_manifest()
        if manifest is None:
            raise IndexMissingError(
                f"No index at {self.where}. Build it with `assistant index corpus/` (or `make run`)."
            )
        return manifest

    # -- writing --------------------------------------------------------------------------------

    def write_lock(self, timeout: float = 0.0) -> WriteLock:
        """A lock held while writing; a second writer gets a clear error instead of corrupting.

        Embedded: the file lock ``index/.write.lock``. Server: a lease in the server (see the module
        docstring), so writers on different machines exclude each other too.

        Raises:
            IndexLockedError: Another process holds the lock.
        """
        if self.chroma_url:
            assert self._meta is not None
            lock: WriteLock = _Lease.acquire(self._meta, self.where, timeout)
        else:
            lock = _FileWriteLock.acquire(self.index_dir / ".write.lock", self.where, timeout)
        self.refresh()  # write on top of what other processes wrote, not on a stale view of it
        return lock

    def add(self, chunks: list[Chunk], vectors: np.ndarray, content_hash: str | list[str]) -> None:
        """Add chunks with their vectors (ids already present are overwritten).

        ``content_hash`` is their document's hash, or one per chunk when they come from several
        documents: writing many documents in one call saves Chroma's fixed per-call cost.
        """
        hashes = [content_hash] * len(chunks) if isinstance(content_hash, str) else content_hash
        for lo in range(0, len(chunks), _BATCH):
            batch = chunks[lo:lo + _BATCH]
            self._collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors[lo:lo + _BATCH],
                documents=[c.text for c in batch],
                metadatas=[_metadata(c, h) for c, h in zip(batch, hashes[lo:lo + _BATCH], strict=True)],
            )

    def add_vectors(self, space: str, ids: list[str], vectors: np.ndarray, chunk_ids: list[str],
                    source: str | list[str]) -> None:
        """Add vectors to a secondary space; each points back to its chunk (and its chunk's source,
        one for all or one per vector)."""
        collection = self._spaces[space]
        sources = [source] * len(ids) if isinstance(source, str) else source
        for lo in range(0, len(ids), _BATCH):
            collection.upsert(
                ids=ids[lo:lo + _BATCH], embeddings=vectors[lo:lo + _BATCH],
                metadatas=[{"chunk_id": c, "source": s}
                           for c, s in zip(chunk_ids[lo:lo + _BATCH], sources[lo:lo + _BATCH], strict=True)],
            )

    def delete_source(self, source: str) -> None:
        """Remove every chunk (in every space) of one source."""
        for collection in self._spaces.values():
            collection.delete(where={"source": source})

    def clear(self, recreate: bool = False) -> None:
        """Remove everything from every space.

        Args:
            recreate: Drop and recreate the collections, forgetting their vector dimensions (needed
                when the embedding model changes). Other processes must then reopen the index.
        """
        if recreate:
            for collection in self._spaces.values():
                self._client.delete_collection(collection.name)
            self._open_spaces()
            return
        for collection in self._spaces.values():
            while True:
                ids = collection.get(limit=5000, include=[])["ids"]
                if not ids:
                    break
                collection.delete(ids=ids)

    def copy_to(self, target: ChromaStore) -> int:
        """Copy every vector, chunk and the manifest into another store, without re-embedding.

        Moves an embedded index to a Chroma server (or back). The target's collections are
        recreated (it may have held another model's vectors) and written under its write lock.

        Returns:
            How many chunks were copied.
        """
        manifest = self.require_manifest()
        lock = target.write_lock()
        try:
            target.clear(recreate=True)
            for space in SPACES:
                include = ["embeddings", "metadatas"] + (["documents"] if space == CHUNKS else [])
                for ids, got in self._pages(space, include=include, page=_BATCH):
                    target._spaces[space].upsert(ids=ids, embeddings=got["embeddings"], metadatas=got["metadatas"],
                                                 documents=got["documents"] if space == CHUNKS else None)
            target.write_manifest(manifest)
        finally:
            lock.release()
        return target.count()

    def delete_vectors(self, space: str, ids: list[str]) -> None:
        """Remove vectors of one space by id."""
        for lo in range(0, len(ids), _BATCH):
            self._spaces[space].delete(ids=ids[lo:lo + _BATCH])

    # -- reading --------------------------------------------------------------------------------

    def count(self, space: str = CHUNKS) -> int:
        """How many chunks (or vectors of another space) the collection holds."""
        return self._spaces[space].count()

    def ids(self, space: str) -> list[str]:
        """Every id of a space, sorted (for comparing two indexes)."""
        return sorted(i for ids, _ in self._pages(space, include=[]) for i in ids)

    def owners(self, space: str) -> Iterator[tuple[str, str, str]]:
        """Every vector of a secondary space as ``(id, chunk id, source)``."""
        for ids, got in self._pages(space, include=["metadatas"]):
            for vector_id, meta in zip(ids, got["metadatas"], strict=True):
                yield vector_id, str(meta.get("chunk_id", "")), str(meta.get("source", ""))

    def _pages(self, space: str, include: list[str], page: int = 5000) -> Iterator[tuple[list[str], Any]]:
        # Paged by offset: a reconcile runs under the write lock, so nothing shifts underneath.
        collection = self._spaces[space]
        for offset in range(0, collection.count(), page):
            got = collection.get(include=include, limit=page, offset=offset)  # type: ignore[arg-type]
            yield got["ids"], got

    def iter_chunks(self) -> Iterator[tuple[Chunk, str]]:
        """Every stored chunk with the content hash of its document."""
        for ids, got in self._pages(CHUNKS, include=["documents", "metadatas"]):
            for chunk_id, text, meta in zip(ids, got["documents"], got["metadatas"], strict=True):
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
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True)
        return [StoredChunk(_chunk(i, t, m), 1.0 - float(d)) for i, t, m, d in rows]

    def query_space(self, space: str, vector: np.ndarray, n_results: int) -> list[tuple[str, str, float]]:
        """Nearest vectors of a space: ``(id, chunk id, cosine similarity)``, best first."""
        collection = self._spaces[space]
        total = collection.count()
        if total == 0:
            return []
        include = ["distances"] if space == CHUNKS else ["distances", "metadatas"]
        got = collection.query(query_embeddings=[vector], n_results=min(n_results, total), include=include)
        metas = got["metadatas"][0] if space != CHUNKS else [None] * len(got["ids"][0])
        return [
            (i, i if m is None else str(m["chunk_id"]), 1.0 - float(d))
            for i, m, d in zip(got["ids"][0], metas, got["distances"][0], strict=True)
        ]

    def vectors(self, space: str, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of a space by id (missing ids are left out)."""
        if not ids:
            return {}
        got = self._spaces[space].get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def get(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (missing ids are left out)."""
        if not ids:
            return []
        got = self._collection.get(ids=ids, include=["documents", "metadatas"])
        by_id = {i: _chunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]


_CLIENTS: dict[Path, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _embedded_client(path: Path, stale: Any = None) -> Any:
    """The process's Chroma client for an index folder; a new one (with a fresh System) when ``stale``
    is the current one.

    chromadb shares one ``System`` per folder within a process, and that System holds the vector
    indexes loaded from disk; asking ``PersistentClient`` again returns the same stale System. Its
    cache entry is dropped instead (the old System is left to in-flight queries and the garbage
    collector, not stopped under them), so the next client loads what is on disk now.
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    key = path.resolve()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None or client is stale:
            if client is not None:
                SharedSystemClient._identifier_to_system.pop(str(key), None)
                SharedSystemClient._identifier_to_refcount.pop(str(key), None)
            client = chromadb.PersistentClient(path=str(key),
                                               settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
            _CLIENTS[key] = client
        return client


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    return {"source": chunk.source, "title": chunk.title, "paragraph": chunk.paragraph, "page": chunk.page,
            "start": chunk.start, "end": chunk.end, "content_hash": content_hash}


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(chunk_id=chunk_id, source=str(meta["source"]), title=str(meta.get("title", "")),
                 paragraph=int(meta.get("paragraph", 0)), start=int(meta["start"]), end=int(meta["end"]),
                 text=text, page=int(meta.get("page", 0)))
