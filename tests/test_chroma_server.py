"""Client/server Chroma: a real ``chroma run`` server on 127.0.0.1, and the same store tests embedded.

The server is the chromadb package's own executable, started once for this module and killed at
teardown. Every test uses its own collection name, so tests never see each other's data.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from assistant import Assistant, IndexLockedError
from assistant.index.manifest import document_entry, new_manifest
from assistant.index.store import CHUNKS, SECOND_CHUNKS, SENTENCES, SPACES, ChromaStore
from assistant.ingest.chunking import chunk_document, chunk_sentences, sentence_id
from assistant.ingest.loaders import content_hash
from assistant.types import Document

pytestmark = pytest.mark.slow

LIGHTHOUSE = ("Lighthouse of Port Amsel\n"
              "The lighthouse of Port Amsel was built in 1847 by the engineer Margit Olsen.\n"
              "Its lamp could be seen from forty kilometres away on a clear night.\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_chroma_server(path: Path, log: Path, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """``chroma run`` on a free 127.0.0.1 port; returns once its heartbeat answers."""
    exe = Path(sys.executable).with_name("chroma")  # installed with the chromadb package, beside python
    if not exe.exists():
        exe = Path(shutil.which("chroma") or exe)
    for _ in range(3):  # another process may take the free port before the server binds it
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            process = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                                        str(port)], stdout=out, stderr=subprocess.STDOUT,
                                       env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    return process, url
            except OSError:
                time.sleep(0.2)
        stop_process(process)
    raise RuntimeError(f"chroma run did not answer its heartbeat; see {log}:\n{log.read_text()[-2000:]}")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process we started, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("chroma-server")
    process, url = start_chroma_server(folder / "data", folder / "chroma.log")
    yield url
    stop_process(process)


@pytest.fixture(params=["embedded", "server"])
def store_factory(request, tmp_path: Path):
    """Opens stores on one index: an embedded folder, or a fresh collection on the server."""
    collection = f"t-{uuid.uuid4().hex[:12]}"
    url = request.getfixturevalue("chroma_url") if request.param == "server" else ""
    return lambda: ChromaStore(tmp_path / "index", url, collection)


def _document(source: str, text: str) -> tuple[Document, list]:
    document = Document(source, text.splitlines()[0], text, content_hash(text))
    return document, chunk_document(document, 1200)


def _vectors(n: int, seed: int | np.random.Generator) -> np.ndarray:
    """``n`` random unit vectors, the same for the same seed."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _add(store: ChromaStore, document: Document, chunks: list, seed: int) -> np.ndarray:
    """Store a document with random unit vectors (no model needed); returns the chunk vectors."""
    rng = np.random.default_rng(seed)
    vectors = _vectors(len(chunks), rng)
    store.add(chunks, vectors, document.content_hash)
    ids = [sentence_id(c.chunk_id, k) for c in chunks for k in range(len(chunk_sentences(c)))]
    owners = [c.chunk_id for c in chunks for _ in chunk_sentences(c)]
    store.add_vectors(SENTENCES, ids, rng.normal(size=(len(ids), 16)).astype(np.float32), owners, document.source)
    return vectors


def test_store_round_trip_and_a_second_process_sees_the_manifest(store_factory) -> None:
    store = store_factory()
    document, chunks = _document("lighthouse.txt", LIGHTHOUSE)
    vectors = _add(store, document, chunks, seed=1)
    manifest = new_manifest("fake", 16, 1200, 1)
    manifest.documents["lighthouse.txt"] = document_entry(document.content_hash, document.title, len(chunks))
    store.write_manifest(manifest)

    nearest = store.query(vectors[1], 2)
    assert nearest[0].chunk.chunk_id == chunks[1].chunk_id and nearest[0].similarity == pytest.approx(1.0, abs=1e-4)
    assert [c.text for c in store.get([chunks[2].chunk_id, chunks[0].chunk_id])] == [chunks[2].text, chunks[0].text]
    assert sorted(c.chunk_id for c, _ in store.iter_chunks()) == store.ids(CHUNKS)

    other = store_factory()  # another process opening the same index
    before = other.generation()
    assert other.read_manifest().documents["lighthouse.txt"].chunks == len(chunks)
    manifest.documents.pop("lighthouse.txt")
    store.delete_source("lighthouse.txt")
    store.write_manifest(manifest)
    assert other.generation() != before and other.read_manifest().documents == {}
    assert all(other.count(space) == 0 for space in SPACES)


WRITER = """
import sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {root!r}]
from test_chroma_server import LIGHTHOUSE, _add, _document
from assistant.index.manifest import document_entry
from assistant.index.store import ChromaStore
store = ChromaStore(Path({index!r}), {url!r}, {collection!r})
lock = store.write_lock()
document, chunks = _document("lighthouse.txt", LIGHTHOUSE)
_add(store, document, chunks, seed=7)
manifest = store.read_manifest()
manifest.documents["lighthouse.txt"] = document_entry(document.content_hash, document.title, len(chunks))
store.write_manifest(manifest)
lock.release()
"""


def test_a_write_by_another_process_is_seen_before_the_next_query(store_factory) -> None:
    """Embedded Chroma keeps its vector index in memory: without refresh() the query below misses
    the other process's chunks (checked: it returns only the first document's)."""
    store = store_factory()
    document, chunks = _document("desert.txt", "Desert\nThe desert is wide.\nIt is dry.\nSand moves.\n")
    _add(store, document, chunks, seed=1)
    manifest = new_manifest("fake", 16, 1200, 1)
    manifest.documents["desert.txt"] = document_entry(document.content_hash, document.title, len(chunks))
    store.write_manifest(manifest)
    assert store.query_space(CHUNKS, np.ones(16, np.float32), 50)  # the vector index is loaded in memory now
    before = store.refresh()

    script = WRITER.format(tests=str(ROOT / "tests"), root=str(ROOT), index=str(store.index_dir),
                           url=store.chroma_url, collection=store._collection_name)
    writer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    assert writer.returncode == 0, writer.stderr

    assert store.refresh() > before
    lighthouse = _vectors(len(_document("lighthouse.txt", LIGHTHOUSE)[1]), seed=7)  # what the writer stored
    nearest = store.query_space(CHUNKS, lighthouse[0], 3)
    assert store.get([nearest[0][1]])[0].source == "lighthouse.txt" and nearest[0][2] == pytest.approx(1.0, abs=1e-4)
    assert set(store.read_manifest().documents) == {"desert.txt", "lighthouse.txt"}
    assert store.count() == len(chunks) + 3


def test_a_second_writer_gets_a_clear_message(store_factory) -> None:
    first, second = store_factory(), store_factory()
    lock = first.write_lock()
    try:
        with pytest.raises(IndexLockedError, match="Another process .*is writing to the index.*run the command again"):
            second.write_lock()
    finally:
        lock.release()
    second.write_lock().release()  # free again once the first writer is done


def test_a_dead_writers_lease_expires(chroma_url: str, tmp_path: Path, monkeypatch) -> None:
    from assistant.index import locks

    collection = f"t-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(locks, "LEASE_SECONDS", 0.5)
    dead = ChromaStore(tmp_path, chroma_url, collection).write_lock()  # never released: the writer "died"
    with pytest.raises(IndexLockedError, match="lease expires"):
        ChromaStore(tmp_path, chroma_url, collection).write_lock()
    time.sleep(0.6)
    alive = ChromaStore(tmp_path, chroma_url, collection).write_lock()
    with pytest.raises(IndexLockedError, match="expired and another process took it"):
        dead.renew()  # the dead writer, had it woken up, learns it lost the lease
    alive.renew()
    alive.release()


@pytest.fixture(scope="module")
def server_bot(chroma_url: str, bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """An assistant on the server, holding a copy of ``bot``'s index (copied, not re-embedded)."""
    settings = bot.settings.replace(chroma_url=chroma_url, collection=f"t-{uuid.uuid4().hex[:12]}",
                                    index_dir=tmp_path_factory.mktemp("server-bot"))
    served = Assistant(settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second)
    assert bot.parts.store.copy_to(served.parts.store) == bot.parts.store.count()
    return served


@pytest.mark.parametrize("question", ["كم عدد المدنيين الذين قتلوا؟",
                                      "How many vehicles did Amaq say were burned?"])
def test_retrieval_and_answers_over_the_server_equal_the_embedded_ones(server_bot: Assistant, bot: Assistant,
                                                                       question: str) -> None:
    assert [h.chunk_id for h in server_bot.retrieve(question)] == [h.chunk_id for h in bot.retrieve(question)]
    assert server_bot.ask(question).to_dict() == bot.ask(question).to_dict()


def test_indexing_over_the_server_is_seen_by_another_assistant(server_bot: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "lighthouse.txt"
    path.write_text(LIGHTHOUSE, encoding="utf-8")
    reader = Assistant(server_bot.settings, embedder=server_bot.parts.embedder,
                       second_embedder=server_bot.parts.encoders.second)
    reader.ask("How many vehicles did Amaq say were burned?")  # its lexical index is built before the new document
    report = server_bot.index([path])
    assert report.added == [str(path)] and report.chunks_added == 3
    answer = reader.ask("Who built the lighthouse of Port Amsel?")
    assert "Margit Olsen" in answer.text and answer.citations[0].source == str(path)
    assert server_bot.parts.store.count(SECOND_CHUNKS) == server_bot.parts.store.count(CHUNKS)
    assert server_bot.remove(str(path)) and str(path) not in [d.source for d in reader.documents()]


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_two_app_processes_share_one_server(chroma_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_CHROMA_URL": chroma_url, "ASSISTANT_COLLECTION": f"t-{uuid.uuid4().hex[:12]}",
           "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
           "ASSISTANT_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "PYTHONPATH": str(ROOT)}
    indexer = _run(["index"], env, tmp_path)
    assert indexer.returncode == 0, indexer.stderr
    assert "1 added" in indexer.stdout
    asker = _run(["ask", "Who built the lighthouse of Port Amsel?", "--json"], env, tmp_path)
    assert asker.returncode == 0, asker.stderr
    answer = json.loads(asker.stdout)
    assert "Margit Olsen" in answer["answer"] and answer["citations"][0]["source"] == "lighthouse.txt"
    assert not (tmp_path / "index" / "chroma").exists()  # nothing was written locally


WATER = ("Water report\n\nThe new filtration plant in Hasakah will cost 42 million dollars, the water directorate said "
         "on Monday. Construction begins in March and will take two years.\n")


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["embedded", "server"])
def test_the_next_question_sees_what_another_process_indexed_or_removed(deployment: str, request, tmp_path: Path,
                                                                        settings_base, embedder) -> None:
    """The bug a user met: with the chat running, `assistant index report.txt` from a shell, and the
    chat answered from the other documents until restarted."""
    url = request.getfixturevalue("chroma_url") if deployment == "server" else ""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    report = tmp_path / "report.txt"
    report.write_text(WATER, encoding="utf-8")
    settings = settings_base.replace(index_dir=tmp_path / "index", corpus_dir=corpus, chroma_url=url,
                                     collection=f"t-{uuid.uuid4().hex[:12]}")
    chat = Assistant(settings, embedder=embedder)  # the running chat
    assert "Margit Olsen" in chat.ask("Who built the lighthouse of Port Amsel?").text
    env = {**os.environ, "ASSISTANT_CHROMA_URL": url, "ASSISTANT_COLLECTION": settings.collection,
           "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(settings.index_dir),
           "ASSISTANT_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}

    shell = _run(["index", str(report)], env, tmp_path)
    assert shell.returncode == 0 and "1 added" in shell.stdout, shell.stderr
    answer = chat.ask("How much will the new filtration plant cost?")
    assert "42 million" in answer.text and answer.citations[0].source == str(report)

    shell = _run(["docs", "--remove", str(report)], env, tmp_path)
    assert shell.returncode == 0, shell.stderr
    answer = chat.ask("How much will the new filtration plant cost?")
    assert str(report) not in [c.source for c in answer.citations] and "42 million" not in answer.text
    assert [d.source for d in chat.documents()] == ["lighthouse.txt"]
