"""Reliability: indexing killed with SIGKILL and repaired, locks, the bad-input battery, load at test size.

The crash tests run ``python -m assistant index`` in subprocesses that kill themselves at a chosen
point (``ASSISTANT_TEST_CRASH_AT``), all at once, while this process builds the clean index they
are compared with. The load test drives the real app with gradio_client sessions (the full
20-client run and the 1,000-question soak are ``benchmarks/bench_load.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTICLE, ROOT
from document_forms import text_pdf

from assistant import Assistant, IndexLockedError, IndexMismatchError, InvalidQuestionError
from assistant.index.indexing import needs_repair
from assistant.index.store import CHUNKS, SECOND_CHUNKS, SECOND_SENTENCES, SENTENCES, SPACES, ChromaStore
from assistant.ingest.chunking import chunk_document, chunk_sentences, sentence_id
from assistant.ingest.loaders import content_hash, load_text
from assistant.types import Document

LIGHTHOUSE = ("Lighthouse of Port Amsel\n"
              "The lighthouse of Port Amsel was built in 1847 by the engineer Margit Olsen.\n"
              "Its lamp could be seen from forty kilometres away on a clear night.\n")
ORCHARD = ("بستان تل أبيض\n"
           "يضم بستان تل أبيض أربعمئة شجرة زيتون زرعها المزارع سليم حداد عام 1962.\n"
           "ويسقى البستان من بئر قديمة تقع في طرفه الشمالي.\n")
ORCHARD_CHANGED = ("بستان تل أبيض\n"
                   "يضم بستان تل أبيض ستمئة شجرة رمان زرعتها المزارعة هدى منصور عام 1975.\n"
                   "ويسقى البستان من نهر صغير يمر في طرفه الجنوبي.\n")
#: The article's first eight lines (seven chunks): enough for questions of the shipped set, and
#: cheaper to embed the five times these tests need.
EXCERPT = "c-ghweiran-excerpt.txt", "".join(ARTICLE.read_text(encoding="utf-8").splitlines(keepends=True)[:8])
QUESTIONS = {q["id"]: q["question"] for q in map(json.loads, (ROOT / "assistant" / "data" / "questions.jsonl")
                                                  .read_text(encoding="utf-8").splitlines())}
SOME_QUESTIONS = [QUESTIONS["ar-22"], QUESTIONS["en-29"]]
ORCHARD_QUESTION = "كم شجرة في بستان تل أبيض؟"

#: Where each run is killed: mid-embedding (nothing stored yet), mid-write (the third document, the
#: excerpt: its chunks stored, its sentence vectors not), before the final manifest (everything
#: stored), and mid-write while replacing a changed document in an existing index.
# "write" kills the run once a group of documents has its chunks stored but not its other vectors
# (the three documents are one group); "update" does so while one changed document is rewritten,
# the others complete and kept.
CRASHES = {"embed": "embed:1", "write": "write:1", "manifest": "manifest:1", "update": "write:1"}


def _env(**variables: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            "PYTHONPATH": str(ROOT), **variables}


def _corpus(folder: Path, orchard: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "a-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (folder / "b-orchard.txt").write_text(orchard, encoding="utf-8")
    (folder / EXCERPT[0]).write_text(EXCERPT[1], encoding="utf-8")
    return folder


def expected_ids(corpus: Path, max_chars: int) -> dict[str, list[str]]:
    """The ids every space must hold for a corpus, from chunking alone (no model)."""
    ids: dict[str, list[str]] = {space: [] for space in SPACES}
    for path in sorted(corpus.iterdir()):
        title, text = load_text(path, 10_000_000)
        for chunk in chunk_document(Document(path.name, title, text, content_hash(text)), max_chars):
            ids[CHUNKS].append(chunk.chunk_id)
            ids[SENTENCES] += [sentence_id(chunk.chunk_id, k) for k in range(len(chunk_sentences(chunk)))]
    ids[SECOND_CHUNKS], ids[SECOND_SENTENCES] = list(ids[CHUNKS]), list(ids[SENTENCES])
    return {space: sorted(values) for space, values in ids.items()}


def _ids(store: ChromaStore) -> dict[str, list[str]]:
    return {space: store.ids(space) for space in SPACES}


def _documents(bot: Assistant) -> dict[str, tuple]:
    manifest = bot.parts.store.require_manifest()
    return {s: (e.content_hash, e.title, e.chunks, e.sentences) for s, e in manifest.documents.items()}


def _answer_key(bot: Assistant, question: str) -> tuple:
    """What must not change between two equal indexes (scores may differ in the last float digits)."""
    answer = bot.ask(question)
    return (answer.text, answer.grounded, [(c.source, c.start, c.end, c.quote_start, c.quote_end)
                                           for c in answer.citations])


@pytest.fixture(scope="module")
def second_embedder(bot: Assistant):
    """The second embedder (multilingual USE), shared with ``bot``."""
    return bot.parts.encoders.second


@pytest.fixture(scope="module")
def crash_lab(tmp_path_factory, settings_base, embedder, second_embedder):
    """Killed indexing runs, one per crash point, and the clean build of the same corpus.

    The subprocesses start first and load their models while this process builds the clean index.
    """
    root = tmp_path_factory.mktemp("crash")
    corpus = _corpus(root / "corpus", ORCHARD)
    changed = _corpus(root / "corpus-changed", ORCHARD_CHANGED)

    def launch(name: str, corpus_dir: Path) -> subprocess.Popen:
        env = _env(ASSISTANT_INDEX_DIR=str(root / name), ASSISTANT_CORPUS_DIR=str(corpus_dir),
                   ASSISTANT_TEST_CRASH_AT=CRASHES[name])
        return subprocess.Popen([sys.executable, "-m", "assistant", "index"], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    runs = {name: launch(name, corpus) for name in ("embed", "write", "manifest")}
    try:
        clean = Assistant(settings_base.replace(index_dir=root / "clean", corpus_dir=corpus), embedder=embedder,
                          second_embedder=second_embedder)
        clean.index()
        # The update case starts from a copy of the clean index, with one document changed on disk. The
        # copy is made by another process: Chroma caches an open index per path, and this process must
        # read the update index only once the killed run has written it.
        copy = subprocess.run([sys.executable, "-c", "import sys\nfrom pathlib import Path\n"
                               "from assistant.index.store import ChromaStore\n"
                               "ChromaStore(Path(sys.argv[1])).copy_to(ChromaStore(Path(sys.argv[2])))",
                               str(root / "clean"), str(root / "update")], env=_env(), capture_output=True,
                              text=True, timeout=120)
        assert copy.returncode == 0, copy.stderr
        runs["update"] = launch("update", changed)
        answers = {q: _answer_key(clean, q) for q in SOME_QUESTIONS}
        assert all(grounded for _, grounded, _ in answers.values()), answers  # a comparison worth making
        outcomes = {}
        for name, process in runs.items():
            _, stderr = process.communicate(timeout=600)
            outcomes[name] = (process.returncode, stderr)
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return {"root": root, "corpus": corpus, "changed": changed, "clean": clean, "answers": answers,
            "outcomes": outcomes}


@pytest.mark.parametrize("point", list(CRASHES))
def test_killed_indexing_is_repaired_into_a_clean_build(point: str, crash_lab, settings_base, embedder,
                                                        second_embedder) -> None:
    returncode, stderr = crash_lab["outcomes"][point]
    assert returncode == -signal.SIGKILL, stderr[-2000:]
    clean: Assistant = crash_lab["clean"]
    corpus = crash_lab["changed"] if point == "update" else crash_lab["corpus"]
    bot = Assistant(settings_base.replace(index_dir=crash_lab["root"] / point, corpus_dir=corpus),
                    embedder=embedder, second_embedder=second_embedder)
    before = bot.parts.store.read_manifest()
    assert before is not None and before.dirty  # the run was killed after its journal mark
    assert needs_repair(bot.parts.store, before)

    if point in ("embed", "write"):  # the next `assistant index` repairs, and says so
        report = bot.index()
        assert sorted(report.repaired) == (sorted(_documents(clean)) if point == "write" else [])
        assert ("3 repaired after an interrupted run" in report.summary()) == (point == "write")
    else:  # the next start of the app or of `assistant ask` repairs, then indexes what is missing
        report = bot.ensure_index()
    embedded = report.chunks_added if report else 0
    documents = _documents(clean)
    # Only what the killed run had not finished is embedded again.
    expected = {"embed": clean.parts.store.count(), "write": clean.parts.store.count(), "manifest": 0,
                "update": len(expected_ids(corpus, settings_base.chunk_max_chars)[CHUNKS]) - (
                    clean.parts.store.count() - documents["b-orchard.txt"][2])}[point]
    assert embedded == expected
    store = bot.parts.store
    assert not needs_repair(store, store.require_manifest()) and not store.require_manifest().dirty
    assert _ids(bot.parts.store) == expected_ids(corpus, settings_base.chunk_max_chars)
    if point == "update":
        assert {s: d for s, d in _documents(bot).items() if s != "b-orchard.txt"} == \
            {s: d for s, d in documents.items() if s != "b-orchard.txt"}
        assert "ستمئة" in bot.ask(ORCHARD_QUESTION).text
    else:
        assert _ids(bot.parts.store) == _ids(clean.parts.store)
        assert _documents(bot) == documents
        assert {q: _answer_key(bot, q) for q in SOME_QUESTIONS} == crash_lab["answers"]


def test_a_second_writer_on_the_embedded_store_gets_a_clear_message(tmp_path: Path, settings_base, embedder,
                                                                    second_embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index = tmp_path / "index"
    index.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom filelock import FileLock\nlock = FileLock(sys.argv[1])\n"
         "lock.acquire()\nprint('held', flush=True)\ntime.sleep(120)", str(index / ".write.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        bot = Assistant(settings_base.replace(index_dir=index, corpus_dir=corpus), embedder=embedder,
                        second_embedder=second_embedder)
        with pytest.raises(IndexLockedError, match=r"Another process is writing to the index at .*\.write\.lock.*"
                                                   r"Wait for it to finish, then run the command again"):
            bot.index()
    finally:
        holder.kill()
        holder.wait()
    assert bot.index().summary().startswith("0 added")  # the lock dies with its holder


class FakeEmbedder:
    """A deterministic stand-in model: vectors from a hash of the text."""

    def __init__(self, name: str, dim: int, precision: str = "fp32") -> None:
        self.name, self.dim, self.precision = name, dim, precision

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), dtype=np.uint8)[:self.dim].astype(np.float32) + 1
                for t in texts]
        matrix = np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(1e-9)

    embed_queries = embed_passages


def test_an_index_of_another_model_or_dimension_is_refused_with_the_fix(tmp_path: Path, settings_base) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    settings = settings_base.replace(index_dir=tmp_path / "index", corpus_dir=corpus)
    Assistant(settings, embedder=FakeEmbedder("model-a", 8), second_embedder=FakeEmbedder("use-a", 4)).index()

    other = Assistant(settings, embedder=FakeEmbedder("model-b", 12), second_embedder=FakeEmbedder("use-a", 4))
    fix = r"Rebuild it with `assistant index --rebuild corpus/` \(or set ASSISTANT_EMBED_MODEL back to 'model-a'\)"
    with pytest.raises(IndexMismatchError, match=r"embedding model 'model-a', not 'model-b'; dimension 8, not 12.*"
                                                 + fix):
        other.index()
    with pytest.raises(IndexMismatchError, match=fix):
        other.ask("Who built the lighthouse?")
    no_second = Assistant(settings.replace(second_embedder=""), embedder=FakeEmbedder("model-a", 8))
    with pytest.raises(IndexMismatchError, match="second embedder 'use-a', not 'none'"):
        no_second.index()

    report = other.index(rebuild=True)  # the fix the message names
    assert report.added == ["lighthouse.txt"] and other.parts.store.require_manifest().dim == 12
    assert other.parts.store.count(SECOND_CHUNKS) == other.parts.store.count() == 3


def test_the_index_records_its_precision_and_refuses_vectors_it_cannot_mix(tmp_path: Path, settings_base) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    # The sentence picker answers: what is checked is which vectors mix, not the reader (no model loads).
    settings = settings_base.replace(index_dir=tmp_path / "index", corpus_dir=corpus, reader={"adapter": ""})
    Assistant(settings, embedder=FakeEmbedder("model-a", 8, "fp32"), second_embedder=FakeEmbedder("use-a", 4)).index()

    bf16 = Assistant(settings, embedder=FakeEmbedder("model-a", 8, "bf16"), second_embedder=FakeEmbedder("use-a", 4))
    assert bf16.ask("Who built the lighthouse?").citations  # fp32 and bf16 vectors mix (measured, see the docs)
    (corpus / "harbour.txt").write_text("Harbour\nThe harbour of Port Amsel opened in 1850.\n", encoding="utf-8")
    assert bf16.index().added == ["harbour.txt"]
    assert bf16.parts.store.require_manifest().precision == "bf16+fp32"  # honest about what it holds

    int8 = Assistant(settings, embedder=FakeEmbedder("model-a", 8, "int8"), second_embedder=FakeEmbedder("use-a", 4))
    assert int8.ask("Who built the lighthouse?").citations  # so do int8 ones
    (corpus / "quay.txt").write_text("Quay\nThe quay of Port Amsel was paved in 1861.\n", encoding="utf-8")
    assert int8.index().added == ["quay.txt"]
    assert int8.parts.store.require_manifest().precision == "bf16+fp32+int8"

    # Vectors this version cannot vouch for (another version's precision) are never mixed in.
    fp16 = Assistant(settings.replace(index_dir=tmp_path / "other"), embedder=FakeEmbedder("model-a", 8, "fp16"),
                     second_embedder=FakeEmbedder("use-a", 4))
    fp16.index()
    fp32 = Assistant(settings.replace(index_dir=tmp_path / "other"), embedder=FakeEmbedder("model-a", 8, "fp32"),
                     second_embedder=FakeEmbedder("use-a", 4))
    fix = (r"holds fp16 vectors, which fp32 questions cannot be searched against \(this version mixes bf16, fp32, "
           r"int8\)\. Rebuild it with `assistant index --rebuild corpus/`\.")
    with pytest.raises(IndexMismatchError, match=fix):
        fp32.ask("Who built the lighthouse?")
    with pytest.raises(IndexMismatchError, match=fix):
        fp32.index()
    assert fp32.index(rebuild=True).added == ["harbour.txt", "lighthouse.txt", "quay.txt"]
    assert fp32.parts.store.require_manifest().precision == "fp32"


# -- bad questions -------------------------------------------------------------------------------------

PLAIN = "How many vehicles did Amaq say were burned?"
REJECTED = {
    "empty": ("", "empty"),
    "only control characters": ("\x00\x07\x1b\x7f", "empty"),
    "only bidi controls": ("\u202e\u202d\u200f", "empty"),
    "1 MB": ("س" * 1_000_000, r"1,000,000 characters long; the limit is 2,000 \(ASSISTANT_MAX_QUESTION_CHARS\)"),
    "only emoji": ("😀🔥👍🏽 🎉", "no letters or digits"),
    "only punctuation": ("?!... ;:-- ()", "no letters or digits"),
    "French": ("Combien de véhicules ont été brûlés selon Amaq ?", "another language written in Latin letters"),
    "Russian": ("Сколько машин сожгли, по словам Амак?", "looks like Cyrillic.*Arabic or English"),
}
ANSWERED = {
    "control characters": "\x00How many\x07 vehicles\x1b did Amaq say were burned?\x7f",
    "bidi override": f"\u202e{PLAIN}\u202c",
    "SQL": "'; DROP TABLE documents; -- how many vehicles were burned?",
    "HTML and script": "<script>alert('x')</script><b>How many vehicles</b> did Amaq say were burned?",
}


def _index_state(bot: Assistant) -> tuple:
    return bot.parts.store.count(), bot.parts.store.generation(), _documents(bot)


@pytest.mark.parametrize("case", list(REJECTED))
def test_bad_questions_get_a_message_naming_the_problem(bot: Assistant, case: str) -> None:
    question, message = REJECTED[case]
    state = _index_state(bot)
    started = time.perf_counter()
    with pytest.raises(InvalidQuestionError, match=message):
        bot.ask(question)
    assert time.perf_counter() - started < 2.0  # refused before any model runs
    assert _index_state(bot) == state


@pytest.fixture(scope="module")
def plain_answer(bot: Assistant) -> dict:
    answer = bot.ask(PLAIN).to_dict()
    assert "25" in answer["answer"]
    return answer


@pytest.mark.parametrize("case", list(ANSWERED))
def test_odd_questions_are_answered_or_refused_without_harm(bot: Assistant, plain_answer: dict, case: str) -> None:
    state = _index_state(bot)
    answer = bot.ask(ANSWERED[case])
    assert answer.text and answer.language == "en"
    assert not any(ch in answer.text for ch in "\x00\x07\x1b\u202e")
    if case in ("control characters", "bidi override"):
        assert answer.to_dict() == plain_answer  # the invisible characters change nothing
    if answer.grounded:
        text = (bot.settings.corpus_dir / answer.citations[0].source).read_text(encoding="utf-8")
        assert all(text[c.start:c.end] == c.text for c in answer.citations)
    assert _index_state(bot) == state  # nothing else is touched


# -- bad files -------------------------------------------------------------------------------------

UTF16_ARABIC = "سجل البلدية\nافتتحت بلدية القامشلي مكتبة عامة جديدة تضم ثلاثة آلاف كتاب في شارع الكورنيش.\n"
MOSTLY_SCRIPTS = ("<html><head><title>Bakery notes</title>" + "<script>var x = 'tracking';</script>" * 2000
                  + "</head><body><noscript>enable js</noscript><p>The Hasaka bakery bakes 900 loaves each "
                  "morning.</p>" + "<script>document.write('ad')</script>" * 500 + "</body></html>")


def _bytes_read() -> int:
    """Bytes this process has read through read() calls so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_bad_files_are_named_with_the_reason_and_the_rest_index(tmp_path: Path, settings_base, embedder,
                                                                second_embedder) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The vault code of the outside folder is 4471.", encoding="utf-8")
    (corpus / "utf16-arabic.txt").write_bytes(UTF16_ARABIC.encode("utf-16"))
    pdf = text_pdf(["The Hasaka weir holds 300 cubic metres.", "Second page."])
    (corpus / "truncated.pdf").write_bytes(pdf[:len(pdf) // 2])
    (corpus / "encrypted.pdf").write_bytes(text_pdf(["Locked text."], password="s3cret"))
    (corpus / "owner-locked.pdf").write_bytes(text_pdf(["The Qamishli archive keeps 70 maps."], owner_password="o"))
    (corpus / "scan.pdf").write_bytes(text_pdf(["", ""]))
    (corpus / "scripts-only.html").write_text("<html><script>" + "x=1;" * 5000 + "</script></html>")
    (corpus / "mostly-scripts.html").write_text(MOSTLY_SCRIPTS, encoding="utf-8")
    with (corpus / "huge.txt").open("wb") as huge:
        huge.truncate(200_000_000)  # sparse: 200 MB that take no disk
    (corpus / "report..v2.txt").write_text("Report v2: the Derik mill grinds 40 tonnes a day.", encoding="utf-8")
    os.symlink(outside, corpus / "linked-folder")
    os.symlink(outside / "secret.txt", corpus / "linked-secret.txt")
    os.symlink(corpus / "loop.txt", corpus / "loop.txt")
    os.symlink(corpus / "utf16-arabic.txt", corpus / "utf16-link.txt")  # the same document under a second name

    bot = Assistant(settings_base.replace(index_dir=tmp_path / "index", corpus_dir=corpus), embedder=embedder,
                    second_embedder=second_embedder)
    read_before = _bytes_read()
    report = bot.index()
    assert _bytes_read() - read_before < 50_000_000  # the 200 MB file was refused by its size, not read
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert sorted(report.added) == ["mostly-scripts.html", "owner-locked.pdf", "report..v2.txt", "utf16-arabic.txt"]
    assert reasons.pop("truncated.pdf").startswith("damaged or truncated PDF (")
    assert reasons.pop("encrypted.pdf") == ("encrypted PDF (it needs a password); save an unprotected copy or "
                                            "export it as text")
    assert reasons == {
        "scan.pdf": "PDF without text: no text layer and no scanned image on its pages",
        "scripts-only.html": "no text found in the file",
        "huge.txt": "file is 200.0 MB, over the 50 MB limit (ASSISTANT_MAX_FILE_MB)",
        "linked-folder": "symbolic link leading outside the folder; not followed",
        "linked-secret.txt": "symbolic link leading outside the folder; not followed",
        "loop.txt": "broken or looping symbolic link; not followed",
        "utf16-link.txt": "same content as utf16-arabic.txt; indexed once",
    }

    texts: dict[str, list[str]] = {}
    for chunk, _ in bot.parts.store.iter_chunks():
        texts.setdefault(chunk.source, []).append(chunk.text)
    assert UTF16_ARABIC.splitlines()[1] in texts["utf16-arabic.txt"]  # decoded, not mojibake
    assert texts["mostly-scripts.html"] == ["Bakery notes", "The Hasaka bakery bakes 900 loaves each morning."]
    answer = bot.ask("كم كتاباً تضم مكتبة القامشلي الجديدة؟")
    assert answer.grounded and answer.citations[0].source == "utf16-arabic.txt" and "ثلاثة آلاف" in answer.text

    # Paths with ../ are normalised: the same file is one document, a file outside gets its full path.
    (corpus / "sub" / "note.txt").write_text("The Amuda library opens at nine.", encoding="utf-8")
    (tmp_path / "outside-note.txt").write_text("The Tirbespi clinic opens at eight.", encoding="utf-8")
    dotted = bot.index([corpus / "sub" / ".." / "sub" / "note.txt", corpus / ".." / "outside-note.txt",
                        corpus / "sub" / ".." / "report..v2.txt"])
    assert dotted.added == [str(tmp_path / "outside-note.txt"), "sub/note.txt"]
    assert dotted.unchanged == ["report..v2.txt"]
    assert all(".." not in Path(d.source).parts for d in bot.documents())
    assert not bot.remove("../outside-note.txt")  # names are exact; nothing outside is touched

    manifest = bot.parts.store.require_manifest()
    assert not needs_repair(bot.parts.store, manifest)  # nothing lost: every count agrees with the manifest
    assert bot.parts.store.count() == sum(e.chunks for e in manifest.documents.values())


# -- load and memory, test-sized ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def load_app(tmp_path_factory, bot: Assistant, settings_base, embedder, second_embedder):
    """The real app (create_demo) over the article and four canary documents, on a free port."""
    from assistant.ui.web import create_demo
    from benchmarks.bench_load import _free_port, canaries, write_corpus

    folder = tmp_path_factory.mktemp("load")
    facts = canaries(4)
    corpus = write_corpus(folder / "corpus", facts)
    assistant = Assistant(settings_base.replace(index_dir=folder / "index", corpus_dir=corpus), embedder=embedder,
                          second_embedder=second_embedder)
    bot.parts.store.copy_to(assistant.parts.store)  # the article's vectors, not embedded again
    assert assistant.index().added == sorted(f.filename for f in facts)
    demo = create_demo(assistant)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    yield url, facts
    demo.close()


def test_concurrent_sessions_keep_their_own_history_without_errors(load_app) -> None:
    """Four sessions at once, each asking its canary, its follow-up, and mixed questions.

    Memory is measured by ``benchmarks/bench_load.py`` (a 1,000-question soak): a run short enough for the
    suite would only measure warm-up allocations.
    """
    from benchmarks.bench_load import run_sessions

    url, facts = load_app
    result = run_sessions(url, facts, seconds=20, max_turns=2)
    summary = result.summary()
    print(json.dumps(summary, indent=1))  # shown with -s; the bench reports the full run
    assert summary["errors"] == 0, summary["error_samples"]
    assert result.canary_checks >= len(facts) and not result.canary_failures, result.canary_failures


def test_bad_questions_through_the_web_api_get_the_same_messages(load_app) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(load_app[0], verbose=False)
    for question, message in (REJECTED["only emoji"], REJECTED["1 MB"]):
        with pytest.raises(AppError, match=message):
            client.predict(question, 5, api_name="/ask")
    assert "25" in client.predict(PLAIN, 5, api_name="/ask")["answer"]
