"""Files -> index: load, chunk, embed and store, one document's failure never stopping the rest.

Crash safety: a run marks the manifest ``dirty`` before its first write and clears the mark with
its last, and a document enters the manifest only once all its vectors are stored. A run that
was killed therefore leaves either a clean index or a dirty mark, and :func:`reconcile` turns the
dirty state back into a clean one: complete documents are kept (adopted into the manifest when
their file still chunks to the same ids), incomplete ones are deleted and dropped from the
manifest, so the next run re-embeds only them.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import IndexLockedError, SkipFile
from ..ingest.chunking import CHUNKING_VERSION, chunk_document, chunk_id, chunk_sentences, sentence_id
from ..ingest.loaders import content_hash, find_files, load_file
from ..models.embeddings import Encoders
from ..models.precision import combined
from ..types import Chunk, Document, IndexReport
from .locks import WriteLock
from .manifest import Manifest, document_entry, new_manifest
from .store import CHUNKS, SECOND_CHUNKS, SECOND_SENTENCES, SENTENCES, SPACES, ChromaStore

_GROUP_CHUNKS = 64  # embed several small documents per batch; small enough for a lively progress bar
_CHECKPOINT_SECONDS = 5.0  # how often a long run persists the manifest (and renews a server lease)

_crash_counts: Counter[str] = Counter()


def _crash_point(name: str) -> None:
    """Test hook: ``ASSISTANT_TEST_CRASH_AT=point[:n]`` SIGKILLs this process the n-th time it reaches
    ``embed`` (between two embedding calls), ``write`` (a group of documents has its chunks stored,
    not its other vectors) or ``manifest`` (everything stored, the final manifest not written)."""
    wanted = os.environ.get("ASSISTANT_TEST_CRASH_AT", "")
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_counts[name] += 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class IndexOptions:
    """How one indexing run behaves."""

    corpus_dir: Path
    chunk_max_chars: int
    max_file_bytes: int
    prune: bool = False
    rebuild: bool = False
    progress: bool = True


@dataclass
class RepairReport:
    """What :func:`reconcile` found and did after an interrupted write."""

    dropped: list[str] = field(default_factory=list)  # incomplete documents removed; the next run re-adds them
    adopted: list[str] = field(default_factory=list)  # complete documents the manifest had not recorded yet
    stray_vectors: int = 0  # vectors whose chunk was gone


def open_manifest(store: ChromaStore, encoders: Encoders, chunk_max_chars: int, rebuild: bool) -> Manifest:
    """The store's manifest, checked against the settings in force; a fresh one for a new index.

    A rebuild, or vectors without a manifest, start from empty. A killed rebuild leaves the old
    manifest over an emptier store, which the next start repairs like any other interrupted write.
    """
    manifest = store.read_manifest()
    primary = encoders.primary
    if manifest is not None and not rebuild:
        manifest.check_compatible(primary.name, primary.dim, chunk_max_chars, CHUNKING_VERSION, store.where,
                                  encoders.second_name, primary.precision)
        return manifest
    if manifest is not None or any(store.count(space) for space in SPACES):
        # Another model may embed in another dimension, which Chroma fixes per collection.
        other_model = manifest is None or (manifest.embed_model, manifest.dim, manifest.second_model) != (
            primary.name, primary.dim, encoders.second_name)
        store.clear(recreate=other_model)
    return new_manifest(primary.name, primary.dim, chunk_max_chars, CHUNKING_VERSION, encoders.second_name,
                        primary.precision)


def index_paths(paths: list[Path], store: ChromaStore, encoders: Encoders, options: IndexOptions) -> IndexReport:
    """Bring the index up to date with the given files and folders.

    Unchanged files are not re-embedded; a changed file's chunks replace its old ones; files
    that cannot be read are named in ``report.skipped`` with the reason and the rest go on.
    """
    started = time.perf_counter()
    report = IndexReport()
    lock = store.write_lock()
    try:
        manifest = open_manifest(store, encoders, options.chunk_max_chars, options.rebuild)
        if needs_repair(store, manifest):
            report.repaired.extend(reconcile(store, manifest, options.corpus_dir, options.max_file_bytes).dropped)
            manifest.dirty = False
            store.write_manifest(manifest)
        candidates, skipped = find_files(paths, options.corpus_dir)
        report.skipped.extend(skipped)
        by_hash = {entry.content_hash: source for source, entry in manifest.documents.items()}
        pending: list[tuple[Document, list[Chunk], bool]] = []
        for candidate in candidates:
            try:
                loaded = load_file(candidate.path, options.max_file_bytes, progress=options.progress)
            except SkipFile as reason:
                report.skipped.append((str(candidate.path), str(reason)))
                continue
            except OSError as error:
                report.skipped.append((str(candidate.path), f"cannot read the file: {error.strerror or error}"))
                continue
            digest = content_hash(loaded.text)
            known = manifest.documents.get(candidate.source)
            if known and known.content_hash == digest:
                report.unchanged.append(candidate.source)
                continue
            twin = by_hash.get(digest)
            if twin and twin != candidate.source:
                report.skipped.append((str(candidate.path), f"same content as {twin}; indexed once"))
                continue
            by_hash[digest] = candidate.source
            document = Document(candidate.source, loaded.title, loaded.text, digest, loaded.pages)
            chunks = chunk_document(document, options.chunk_max_chars)
            if not chunks:
                report.skipped.append((str(candidate.path), "no indexable text (only page furniture)"))
                continue
            pending.append((document, chunks, known is not None))
        gone = [s for s in sorted(manifest.documents) if not _source_path(s, options.corpus_dir).exists()] \
            if options.prune else []
        if pending or gone:
            manifest.dirty = True  # the journal mark: a run killed from here on is repaired at the next start
            store.write_manifest(manifest)
        _embed_and_store(pending, store, encoders, manifest, report, options.progress, lock)
        for source in gone:
            store.delete_source(source)
            del manifest.documents[source]
            report.removed.append(source)
        _crash_point("manifest")
        manifest.dirty = False
        store.write_manifest(manifest)
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def remove_source(source: str, store: ChromaStore) -> bool:
    """Remove one document from the index; ``False`` when it was not there."""
    lock = store.write_lock()
    try:
        manifest = store.require_manifest()
        if source not in manifest.documents:
            return False
        store.delete_source(source)
        del manifest.documents[source]
        store.write_manifest(manifest)
        return True
    finally:
        lock.release()


def needs_repair(store: ChromaStore, manifest: Manifest) -> bool:
    """Cheap check (four counts): was a write interrupted, or does the store disagree with the manifest?"""
    if manifest.dirty:
        return True
    entries = manifest.documents.values()
    chunks = sum(e.chunks for e in entries)
    expected = {CHUNKS: chunks}
    if all(e.sentences >= 0 for e in entries):
        expected[SENTENCES] = sum(e.sentences for e in entries)
    if manifest.second_model:
        expected[SECOND_CHUNKS] = chunks
        if SENTENCES in expected:
            expected[SECOND_SENTENCES] = expected[SENTENCES]
    return any(store.count(space) != count for space, count in expected.items())


def repair_index(store: ChromaStore, corpus_dir: Path, max_file_bytes: int) -> RepairReport | None:
    """Repair the index after an interrupted write, if it needs it and no other writer is at work.

    Returns:
        What was repaired, or ``None`` when nothing was (consistent, no index, or another process
        is writing: an in-progress write looks inconsistent but is not ours to repair).
    """
    manifest = store.read_manifest()
    if manifest is None or not needs_repair(store, manifest):
        return None
    try:
        lock = store.write_lock()
    except IndexLockedError:
        return None
    try:
        manifest = store.read_manifest()  # re-read under the lock: the writer may just have finished
        if manifest is None or not needs_repair(store, manifest):
            return None
        repair = reconcile(store, manifest, corpus_dir, max_file_bytes)
        manifest.dirty = False
        store.write_manifest(manifest)
        return repair
    finally:
        lock.release()


def reconcile(store: ChromaStore, manifest: Manifest, corpus_dir: Path, max_file_bytes: int) -> RepairReport:
    """Make the store and the manifest agree again; the caller holds the write lock and saves the manifest.

    Every document in the main collection is checked against the ids it must have in every space
    (its chunk ids follow from its content hash and offsets, its sentence ids from its chunk texts).
    A complete document the manifest records with the same hash is kept; a complete one it does not
    record is adopted when its file still chunks to exactly the same ids; anything else is deleted
    from every space and dropped from the manifest, so the next indexing run re-embeds it alone.
    Vectors whose chunk no longer exists are deleted.
    """
    repair = RepairReport()
    spaces = [SENTENCES] + ([SECOND_CHUNKS, SECOND_SENTENCES] if manifest.second_model else [])
    found: dict[str, _Found] = {}
    for chunk, digest in store.iter_chunks():
        doc = found.setdefault(chunk.source, _Found(title=chunk.title))
        doc.hashes.add(digest)
        doc.chunk_ids.add(chunk.chunk_id)
        doc.ids_match &= chunk.chunk_id == chunk_id(digest, chunk.start, chunk.end)
        sentence_ids = {sentence_id(chunk.chunk_id, k) for k in range(len(chunk_sentences(chunk)))}
        doc.expected[SENTENCES] |= sentence_ids
        doc.expected[SECOND_CHUNKS].add(chunk.chunk_id)
        doc.expected[SECOND_SENTENCES] |= sentence_ids
    owner_of = {c: source for source, doc in found.items() for c in doc.chunk_ids}
    for space in spaces:
        stray = []
        for vector_id, owner, _ in store.owners(space):
            source = owner_of.get(owner)
            if source is None:
                stray.append(vector_id)
            else:
                found[source].present[space].add(vector_id)
        store.delete_vectors(space, stray)
        repair.stray_vectors += len(stray)

    for source in sorted(set(found) | set(manifest.documents)):
        doc, entry = found.get(source), manifest.documents.get(source)
        complete = doc is not None and doc.ids_match and len(doc.hashes) == 1 and all(
            doc.present[space] == doc.expected[space] for space in spaces)
        if doc is not None and complete:
            digest = next(iter(doc.hashes))
            sentences = len(doc.expected[SENTENCES])
            if entry is not None and entry.content_hash == digest and entry.chunks == len(doc.chunk_ids):
                entry.sentences = sentences
                continue
            if _file_chunks_to(source, doc.chunk_ids, digest, corpus_dir, manifest, max_file_bytes):
                manifest.documents[source] = document_entry(digest, doc.title, len(doc.chunk_ids), sentences)
                repair.adopted.append(source)
                continue
        if doc is not None:
            store.delete_source(source)
        if entry is not None or doc is not None:
            manifest.documents.pop(source, None)
            repair.dropped.append(source)
    return repair


@dataclass
class _Found:
    """One document as found in the store by :func:`reconcile`."""

    title: str
    hashes: set[str] = field(default_factory=set)
    chunk_ids: set[str] = field(default_factory=set)
    ids_match: bool = True  # every chunk id follows from its document's hash and its offsets
    expected: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in (SENTENCES, SECOND_CHUNKS,
                                                                                      SECOND_SENTENCES)})
    present: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in (SENTENCES, SECOND_CHUNKS,
                                                                                     SECOND_SENTENCES)})


def _file_chunks_to(source: str, chunk_ids: set[str], digest: str, corpus_dir: Path, manifest: Manifest,
                    max_file_bytes: int) -> bool:
    """True when the document's file still has this content and chunks to exactly these ids."""
    try:
        loaded = load_file(_source_path(source, corpus_dir), max_file_bytes)
    except (SkipFile, OSError):
        return False
    if content_hash(loaded.text) != digest:
        return False
    chunks = chunk_document(Document(source, loaded.title, loaded.text, digest, loaded.pages),
                            manifest.chunk_max_chars)
    return {c.chunk_id for c in chunks} == chunk_ids


def _embed_and_store(pending: list[tuple[Document, list[Chunk], bool]], store: ChromaStore,
                     encoders: Encoders, manifest: Manifest, report: IndexReport, progress: bool,
                     lock: WriteLock) -> None:
    from tqdm.auto import tqdm

    total = sum(len(chunks) for _, chunks, _ in pending)
    bar = tqdm(total=total, unit="chunk", desc="Embedding", disable=not progress or total == 0, delay=1.0)
    group: list[tuple[Document, list[Chunk], bool]] = []
    last_write = time.monotonic()
    for item in pending + [None]:  # type: ignore[list-item]
        if item is not None:
            group.append(item)
        size = sum(len(chunks) for _, chunks, _ in group)
        if group and (item is None or size >= _GROUP_CHUNKS):
            vectors = _embed_group(group, encoders)
            for document, _, _ in group:
                store.delete_source(document.source)  # cheap, and leaves no stale chunk behind
            _store_group(store, group, vectors)
            manifest.precision = combined(manifest.precision, encoders.primary.precision)
            for document, chunks, replacing in group:
                n_sentences = sum(len(chunk_sentences(c)) for c in chunks)
                manifest.documents[document.source] = document_entry(document.content_hash, document.title,
                                                                      len(chunks), n_sentences)
                (report.updated if replacing else report.added).append(document.source)
                report.chunks_added += len(chunks)
            bar.update(size)
            group = []
            if time.monotonic() - last_write > _CHECKPOINT_SECONDS:
                lock.renew()
                store.write_manifest(manifest)
                last_write = time.monotonic()
    bar.close()


def embedded_texts(chunks: list[Chunk]) -> tuple[list[str], list[str]]:
    """What indexing embeds for these chunks: their texts, and their sentences' texts."""
    return [c.text for c in chunks], [s.text for c in chunks for s in chunk_sentences(c)]


def _embed_group(group: list[tuple[Document, list[Chunk], bool]], encoders: Encoders) -> dict[str, np.ndarray]:
    """Vectors for every chunk and sentence of a group of documents, in every space."""
    chunk_texts, sentence_texts = embedded_texts([c for _, document_chunks, _ in group for c in document_chunks])
    vectors = {CHUNKS: encoders.primary.embed_passages(chunk_texts)}
    _crash_point("embed")
    vectors[SENTENCES] = encoders.primary.embed_passages(sentence_texts)
    if encoders.second is not None:
        vectors[SECOND_CHUNKS] = encoders.second.embed_passages(chunk_texts)
        vectors[SECOND_SENTENCES] = encoders.second.embed_passages(sentence_texts)
    return vectors


def _store_group(store: ChromaStore, group: list[tuple[Document, list[Chunk], bool]],
                 vectors: dict[str, np.ndarray]) -> None:
    """Write a group's chunks (with text) and their vectors in the other spaces, one call per space.

    Chroma has a fixed cost per call whatever its size, so writing document by document spent
    more time in calls than in storing (docs/measurements.md). The rows of ``vectors``
    follow the group's chunks and sentences in order (see :func:`_embed_group`).
    """
    chunks = [c for _, document_chunks, _ in group for c in document_chunks]
    hashes = [document.content_hash for document, document_chunks, _ in group for _ in document_chunks]
    store.add(chunks, vectors[CHUNKS], hashes)
    _crash_point("write")
    sentence_ids, owners, sources = [], [], []
    for chunk in chunks:
        for index, _ in enumerate(chunk_sentences(chunk)):
            sentence_ids.append(sentence_id(chunk.chunk_id, index))
            owners.append(chunk.chunk_id)
            sources.append(chunk.source)
    store.add_vectors(SENTENCES, sentence_ids, vectors[SENTENCES], owners, sources)
    if SECOND_CHUNKS in vectors:
        chunk_ids = [c.chunk_id for c in chunks]
        store.add_vectors(SECOND_CHUNKS, chunk_ids, vectors[SECOND_CHUNKS], chunk_ids, [c.source for c in chunks])
        store.add_vectors(SECOND_SENTENCES, sentence_ids, vectors[SECOND_SENTENCES], owners, sources)


def _source_path(source: str, corpus_dir: Path) -> Path:
    path = Path(source)
    return path if path.is_absolute() else corpus_dir / path
