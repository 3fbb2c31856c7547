"""Files -> index: load, chunk, embed and store, one document's failure never stopping the rest."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import CHUNKING_VERSION, chunk_document, chunk_sentences, sentence_id
from .embeddings import Encoders
from .loaders import SkipFile, content_hash, find_files, load_text
from .store import CHUNKS, SECOND_CHUNKS, SECOND_SENTENCES, SENTENCES, ChromaStore, Manifest, document_entry, new_manifest
from .types import Chunk, Document, IndexReport

_GROUP_CHUNKS = 256  # embed several small documents in one batch; the embedder is the bottleneck


@dataclass(frozen=True)
class IndexOptions:
    """How one indexing run behaves."""

    corpus_dir: Path
    chunk_max_chars: int
    max_file_bytes: int
    prune: bool = False
    rebuild: bool = False
    progress: bool = True


def open_manifest(store: ChromaStore, encoders: Encoders, chunk_max_chars: int, rebuild: bool) -> Manifest:
    """The store's manifest, checked against the settings in force; a fresh one for a new index.

    A rebuild, or vectors without a manifest (a first run that was killed), start from empty.
    """
    manifest = store.read_manifest()
    primary = encoders.primary
    if manifest is not None and not rebuild:
        manifest.check_compatible(primary.name, primary.dim, chunk_max_chars, CHUNKING_VERSION, store.where,
                                  encoders.second_name)
        return manifest
    store.clear()
    return new_manifest(primary.name, primary.dim, chunk_max_chars, CHUNKING_VERSION, encoders.second_name)


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
        candidates, skipped = find_files(paths, options.corpus_dir)
        report.skipped.extend(skipped)
        by_hash = {entry.content_hash: source for source, entry in manifest.documents.items()}
        pending: list[tuple[Document, list[Chunk], bool]] = []
        for candidate in candidates:
            try:
                title, text = load_text(candidate.path, options.max_file_bytes)
            except SkipFile as reason:
                report.skipped.append((str(candidate.path), str(reason)))
                continue
            except OSError as error:
                report.skipped.append((str(candidate.path), f"cannot read the file: {error.strerror or error}"))
                continue
            digest = content_hash(text)
            known = manifest.documents.get(candidate.source)
            if known and known.content_hash == digest:
                report.unchanged.append(candidate.source)
                continue
            twin = by_hash.get(digest)
            if twin and twin != candidate.source:
                report.skipped.append((str(candidate.path), f"same content as {twin}; indexed once"))
                continue
            by_hash[digest] = candidate.source
            document = Document(candidate.source, title, text, digest)
            chunks = chunk_document(document, options.chunk_max_chars)
            if not chunks:
                report.skipped.append((str(candidate.path), "no indexable text (only page furniture)"))
                continue
            pending.append((document, chunks, known is not None))
        _embed_and_store(pending, store, encoders, manifest, report, options.progress)
        if options.prune:
            for source in sorted(manifest.documents):
                if not _source_path(source, options.corpus_dir).exists():
                    store.delete_source(source)
                    del manifest.documents[source]
                    report.removed.append(source)
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


def _embed_and_store(pending: list[tuple[Document, list[Chunk], bool]], store: ChromaStore,
                     encoders: Encoders, manifest: Manifest, report: IndexReport, progress: bool) -> None:
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
            row = sentence_row = 0
            for document, chunks, replacing in group:
                store.delete_source(document.source)
                n_sentences = sum(len(chunk_sentences(c)) for c in chunks)
                _store_document(store, document, chunks, vectors, row, sentence_row)
                row += len(chunks)
                sentence_row += n_sentences
                manifest.documents[document.source] = document_entry(document.content_hash, document.title,
                                                                      len(chunks))
                (report.updated if replacing else report.added).append(document.source)
                report.chunks_added += len(chunks)
            bar.update(size)
            group = []
            if time.monotonic() - last_write > 5.0:
                store.write_manifest(manifest)
                last_write = time.monotonic()
    bar.close()


def _embed_group(group: list[tuple[Document, list[Chunk], bool]], encoders: Encoders) -> dict[str, np.ndarray]:
    """Vectors for every chunk and sentence of a group of documents, in every space."""
    chunks = [c for _, document_chunks, _ in group for c in document_chunks]
    chunk_texts = [c.text for c in chunks]
    sentence_texts = [s.text for c in chunks for s in chunk_sentences(c)]
    vectors = {
        CHUNKS: encoders.primary.embed_passages(chunk_texts),
        SENTENCES: encoders.primary.embed_passages(sentence_texts),
    }
    if encoders.second is not None:
        vectors[SECOND_CHUNKS] = encoders.second.embed_passages(chunk_texts)
        vectors[SECOND_SENTENCES] = encoders.second.embed_passages(sentence_texts)
    return vectors


def _store_document(store: ChromaStore, document: Document, chunks: list[Chunk], vectors: dict[str, np.ndarray],
                    row: int, sentence_row: int) -> None:
    """Write one document's chunks (with text) and its vectors in the other spaces."""
    store.add(chunks, vectors[CHUNKS][row:row + len(chunks)], document.content_hash)
    sentence_ids, owners = [], []
    for chunk in chunks:
        for index, _ in enumerate(chunk_sentences(chunk)):
            sentence_ids.append(sentence_id(chunk.chunk_id, index))
            owners.append(chunk.chunk_id)
    end = sentence_row + len(sentence_ids)
    store.add_vectors(SENTENCES, sentence_ids, vectors[SENTENCES][sentence_row:end], owners, document.source)
    if SECOND_CHUNKS in vectors:
        store.add_vectors(SECOND_CHUNKS, [c.chunk_id for c in chunks], vectors[SECOND_CHUNKS][row:row + len(chunks)],
                          [c.chunk_id for c in chunks], document.source)
        store.add_vectors(SECOND_SENTENCES, sentence_ids, vectors[SECOND_SENTENCES][sentence_row:end], owners,
                          document.source)


def _source_path(source: str, corpus_dir: Path) -> Path:
    path = Path(source)
    return path if path.is_absolute() else corpus_dir / path
