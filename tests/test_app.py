"""The web UI: HTML rendering (pure), then the app launched in-process and driven by gradio_client."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from assistant import Answer, Assistant, AssistantError, Chunk, Citation, Settings
from assistant.ui.html import passage_parts, render_answer, render_question, render_sources, stream_cuts

AR_QUESTION = "من هو القائد العام لقسد؟"
EN_QUESTION = "How many people have been killed in total since the fighting began?"
CONVERSATION = ("ما اسم الوكالة التابعة لتنظيم الدولة؟", "وكم عدد الفارين من السجن بحسبها؟")
XSS_DOC = (
    "# Zebra festival notes\n\nThree hundred musicians play at the zebra festival in Qarawa "
    '<script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> and tickets are sold at '
    "[buy here](javascript:window.__xss=3) or ${alert(4)} {{constructor}} every spring.\n"
)
LIGHTHOUSE_DOC = "The lighthouse of Port Amsel was built in 1847 by Margit Olsen.\n"


def _citation(number: int, text: str, quote: str, start: int = 100) -> Citation:
    offset = text.index(quote)
    passage = Chunk(f"c{number}", "docs/a.txt", "Title", 3, start, start + len(text), text)
    return Citation.of(number, passage, 0.9, quote=quote, quote_start=start + offset,
                       quote_end=start + offset + len(quote))


# -- rendering (no server) ---------------------------------------------------------------------------


def test_answer_links_only_real_markers_outside_quotes_and_escapes_everything() -> None:
    passage = "Intro. The toll [1] was <b>7</b>. Outro."
    answer = Answer("7 — the document says: «The toll [1] was <b>7</b>.» [1] [9]", True, "en",
                    [_citation(1, passage, "The toll [1] was <b>7</b>.")])
    html = render_answer(answer, turn=2)
    assert html.count('class="cite"') == 1 and 'href="#src-2-1"' in html
    assert "[9]" in html and "<b>" not in html and "&lt;b&gt;7&lt;/b&gt;" in html
    assert '<p dir="auto">' in html and 'dir="ltr" lang="en"' in html


def test_answer_direction_follows_its_language_when_a_line_has_no_letters_of_its_own() -> None:
    quote = "مقتل سبعة مدنيين"
    answer = Answer(f"7 — «{quote}» [1]", True, "ar", [_citation(1, quote, quote)])
    html = render_answer(answer, turn=1)
    assert 'class="answer grounded done" dir="rtl"' in html
    assert "<p>" in html  # no dir="auto": the line inherits rtl instead of guessing from "7 —"


def test_refusal_and_streaming_states_are_marked() -> None:
    refusal = Answer("I could not find an answer.", False, "en")
    assert 'class="answer refusal done"' in render_answer(refusal, 1) and 'class="badge"' in render_answer(refusal, 1)
    partial = render_answer(refusal, 1, upto=5)
    assert " done" not in partial and "could" not in partial


def test_stream_cuts_grow_on_word_boundaries_and_end_at_the_whole_text() -> None:
    text = "«وأدت الاشتباكات بين تنظيم الدولة وقسد» [1]"
    cuts = list(stream_cuts(text, 8))
    assert cuts == sorted(cuts) and cuts[-1] == len(text)
    assert all(cut == len(text) or text[cut].isspace() for cut in cuts)


def test_passage_marks_the_quote_by_source_offsets_and_sources_are_escaped() -> None:
    passage = 'قبل. <img src=x onerror="alert(1)"> الجملة الداعمة. بعد.'
    citation = _citation(1, passage, "الجملة الداعمة.", start=5000)
    before, sentence, after = passage_parts(citation)
    assert sentence == "الجملة الداعمة." and before + sentence + after == passage
    html = render_sources([(AR_QUESTION, Answer("«x» [1]", True, "ar", [citation]))])
    assert '<mark>الجملة الداعمة.</mark>' in html and 'id="src-1-1"' in html
    assert "<img" not in html and "&lt;img" in html and '<p class="passage" dir="auto">' in html
    assert render_question("<script>x</script>").count("<script>") == 0


# -- the app, launched in-process --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ui_bot(tmp_path_factory: pytest.TempPathFactory, settings_base, embedder, article_corpus) -> Assistant:
    """An assistant of its own: these tests upload into its index."""
    settings = settings_base.replace(index_dir=tmp_path_factory.mktemp("ui-index"), corpus_dir=article_corpus)
    bot = Assistant(settings, embedder=embedder)
    bot.ensure_index()
    return bot


@pytest.fixture(scope="module")
def server(ui_bot: Assistant) -> Iterator[str]:
    from assistant.ui.web import create_demo

    demo = create_demo(ui_bot)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    yield url
    demo.close()


@pytest.fixture
def client(server: str):
    from gradio_client import Client

    return Client(server, verbose=False)


def _texts(chatbot: list[dict]) -> list[str]:
    return ["".join(part.get("text", "") for part in message["content"]) for message in chatbot]


def _chat(client, question: str) -> tuple[list[str], str]:
    chatbot, sources, _ = client.predict(question, 5, "extractive", api_name="/chat")
    return _texts(chatbot), sources


@pytest.mark.parametrize(("question", "language"), [(AR_QUESTION, "ar"), (EN_QUESTION, "en")])
def test_ask_endpoint_returns_the_cli_json(client, ui_bot: Assistant, question: str, language: str) -> None:
    result = client.predict(question, 5, api_name="/ask")
    assert result == json.loads(json.dumps(ui_bot.ask(question, 5).to_dict()))
    assert {"answer", "grounded", "language", "citations", "mode", "notes"} <= result.keys()
    assert result["language"] == language and result["citations"]


def test_ask_endpoint_reports_errors_as_messages(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", 5, api_name="/ask")


@pytest.mark.parametrize(("question", "direction"), [(AR_QUESTION, "rtl"), (EN_QUESTION, "ltr")])
def test_chat_renders_the_answer_with_linked_sources(client, question: str, direction: str) -> None:
    messages, sources = _chat(client, question)
    assert len(messages) == 2 and f'dir="{direction}"' in messages[1] and "done" in messages[1]
    targets = re.findall(r'href="#(src-1-\d+)"', messages[1])
    assert targets and all(f'id="{target}"' in sources for target in targets)
    assert "<mark>" in sources


def test_follow_up_uses_this_sessions_history_only(client, server: str, ui_bot: Assistant) -> None:
    from gradio_client import Client

    expected = ui_bot.chat()
    for question in CONVERSATION:
        answer = expected.ask(question)
        messages, _ = _chat(client, question)
    assert len(messages) == 4
    assert render_answer(answer, 2) == messages[3]  # the follow-up went through a ChatSession with history

    other, _ = _chat(Client(server, verbose=False), CONVERSATION[1])
    assert len(other) == 2 and CONVERSATION[0] not in "".join(other)

    chatbot, sources = client.predict(api_name="/new_chat")
    assert chatbot == [] and "src-" not in sources
    assert len(_chat(client, CONVERSATION[1])[0]) == 2


def _upload(client, path: Path) -> tuple[str, str]:
    from gradio_client import handle_file

    notices, documents, _, _ = client.predict([handle_file(str(path))], api_name="/upload")
    return notices, documents


def test_upload_then_answer_from_it_then_remove(client, ui_bot: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "تقرير المنارة.txt"  # the name the user gave it
    path.write_text(LIGHTHOUSE_DOC, encoding="utf-8")
    notices, documents = _upload(client, path)
    assert "indexed, 1 passage." in notices and "Port Amsel" in documents and "1 passages" not in notices
    stored = list((ui_bot.settings.index_dir / "uploads").glob("*/*.txt"))
    assert [p for p in stored if re.fullmatch(r"[0-9a-f]{16}", p.parent.name) and p.name == "تقرير المنارة.txt"]

    result = client.predict("Who built the lighthouse of Port Amsel?", 5, api_name="/ask")
    assert result["citations"][0]["source"] == "تقرير المنارة.txt" and "Margit Olsen" in result["answer"]
    assert "uploads" not in json.dumps(result, ensure_ascii=False)  # citations name files, never server paths
    source = next(d.source for d in ui_bot.documents() if d.source.endswith("تقرير المنارة.txt"))
    _, sources = _chat(client, "Who built the lighthouse of Port Amsel?")
    assert "تقرير المنارة.txt" in sources and "0123456789" not in sources

    asked = client.predict(source, api_name="/confirm_remove")  # the buttons are no API outputs
    assert "Remove تقرير المنارة.txt from the index?" in asked and Path(source).exists()  # nothing removed yet
    notices = client.predict(api_name="/cancel_remove")
    assert "Nothing was removed" in notices and Path(source).exists()
    notices, documents, _ = client.predict(source, api_name="/remove")
    assert "Removed تقرير المنارة.txt." in notices and "Port Amsel" not in documents and not Path(source).exists()
    assert not Path(source).parent.exists()


def test_uploads_are_stored_by_content_and_shown_by_their_sanitised_names(tmp_path: Path) -> None:
    from assistant.ui.uploads import store_upload

    uploads = tmp_path / "uploads"
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Report one.\n", encoding="utf-8")
    second.write_text("Report two.\n", encoding="utf-8")
    traversal = store_upload(first, uploads, name="../../etc/passwd.txt")
    assert traversal.name == "passwd.txt" and traversal.resolve().parent.parent == uploads.resolve()
    cases = (("\u202e.txt", "document.txt"), ("", "b.txt"), ("تقرير\u200f المياه.txt", "تقرير المياه.txt"),
             ("..\\..\\boot.ini.TXT", "boot.ini.txt"))
    for name, expected in cases:
        source = tmp_path / f"{len(name)}.txt"
        source.write_text(f"Text for {name!r}.\n", encoding="utf-8")
        stored = store_upload(source if name else second, uploads, name=name)
        assert stored.name == expected and stored.resolve().parent.parent == uploads.resolve()
    # the same bytes again are the same document, under the name first given to them
    assert store_upload(first, uploads, name="again.txt") == traversal
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted({"a.txt", "b.txt", "uploads", *(f"{len(name)}.txt" for name, _ in cases)})


def test_documents_sharing_a_name_are_told_apart_and_counts_read_right() -> None:
    from assistant.api import DocumentInfo
    from assistant.ui.html import document_names, plural, render_documents

    day = time.mktime((2026, 11, 30, 9, 15, 0, 0, 0, -1))
    documents = [DocumentInfo("/i/uploads/0a1b2c3d4e5f6a7b/report.txt", "Water", 2, "h1", day),
                 DocumentInfo("/i/uploads/9f8e7d6c5b4a3f2e/report.txt", "Roads", 1, "h2", day + 86_400),
                 DocumentInfo("/i/uploads/77777777aaaaaaaa/report.txt", "Power", 1, "h3", day + 86_400),
                 DocumentInfo("ghweiran-prison.txt", "Ghweiran", 19, "h4", day)]
    names = document_names(documents)
    assert names["ghweiran-prison.txt"] == "ghweiran-prison.txt"
    assert names[documents[0].source] == "report.txt (2026-11-30 09:15)"
    assert names[documents[1].source] == "report.txt (2026-12-01 09:15, 9f8e7d6c)"
    assert len(set(names.values())) == 4
    assert (plural(1, "document"), plural(2, "document"), plural(0, "passage")) == \
        ("1 document", "2 documents", "0 passages")
    assert ">1 document<" in render_documents(documents[3:]) and ">4 documents<" in render_documents(documents)


def test_upload_refuses_unsupported_types_listing_the_accepted_ones(client, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"PK\x03\x04 a spreadsheet")
    notices, _ = _upload(client, path)
    assert "refused" in notices and ".txt, .md" in notices and ".pdf" in notices


def test_upload_refuses_files_over_the_limit(tmp_path: Path) -> None:
    from assistant.ui.uploads import store_upload

    path = tmp_path / "big.txt"
    path.write_text("x" * 2_000, encoding="utf-8")
    with pytest.raises(AssistantError, match="over the 0.001 MB upload limit"):
        store_upload(path, tmp_path / "uploads", max_mb=0.001)
    assert not (tmp_path / "uploads").exists()


def test_document_text_is_escaped_everywhere(client, tmp_path: Path) -> None:
    path = tmp_path / "zebra.md"
    path.write_text(XSS_DOC, encoding="utf-8")
    _upload(client, path)
    messages, sources = _chat(client, "How many musicians play at the zebra festival in Qarawa?")
    page = "".join(messages) + sources
    assert "zebra" in sources.lower()
    assert "<script" not in page and "<img" not in page
    assert not re.search(r"""href=["']?javascript""", page, re.IGNORECASE)
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in sources
    assert "&lt;img src=x onerror=&quot;window.__xss = 2&quot;&gt;" in sources
    assert "[buy here](javascript:window.__xss=3)" in sources


def test_parse_auth_and_default_host() -> None:
    from assistant.ui.web import parse_args, parse_auth

    assert parse_auth("") is None and parse_auth("ann:s3:cret") == ("ann", "s3:cret")
    with pytest.raises(AssistantError, match="user:password"):
        parse_auth("ann")
    args = parse_args([], Settings())
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)


def test_a_busy_port_is_one_line_naming_the_fix(monkeypatch, capsys) -> None:
    from assistant.ui import web as app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = app.port_problem("127.0.0.1", port)
        assert "already in use" in problem and f"ASSISTANT_PORT={port + 1}" in problem
        with pytest.raises(SystemExit) as exit_info:
            app.main(["--port", str(port)])
    assert str(exit_info.value).startswith("error: port") and "\n" not in str(exit_info.value)
    assert app.port_problem("127.0.0.1", _free_port()) == ""


def _serve(port: int, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
           "ASSISTANT_CORPUS_DIR": str(tmp_path / "corpus"), "ASSISTANT_PROGRESS": "0",
           "ASSISTANT_READER__ADAPTER": "off",
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until_served(server: subprocess.Popen, port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the app exited with {server.returncode}: {server.stdout.read() if server.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                if page.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the app did not answer on port {port} within {timeout:.0f} s")


@pytest.mark.slow
def test_a_restart_right_after_a_kill_comes_up_on_the_same_port(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "note.txt").write_text("Note\nThe ferry leaves at nine.\n", encoding="utf-8")
    port = _free_port()
    first = _serve(port, tmp_path)
    try:
        _wait_until_served(first, port)
        browser = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a tab with a live connection
        browser.request("GET", "/")
        browser.getresponse().read()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        browser.close()  # the server's side of the connection is left in TIME_WAIT
    finally:
        first.kill()
    with socket.socket() as plain, pytest.raises(OSError):  # what the old check did: refused for a minute
        plain.bind(("127.0.0.1", port))

    second = _serve(port, tmp_path)
    try:
        _wait_until_served(second, port, timeout=60)
    finally:
        second.kill()
        second.wait(timeout=30)


@pytest.mark.slow
def test_the_app_serves_the_current_index_while_another_process_writes(tmp_path: Path, monkeypatch, capsys) -> None:

    from assistant.ui import web as app

    (tmp_path / "corpus").mkdir()
    (tmp_path / "index").mkdir()
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "corpus"))
    launched: list[dict] = []

    class FakeDemo:
        def launch(self, **options) -> None:
            launched.append(options)

    monkeypatch.setattr(app, "create_demo", lambda assistant: FakeDemo())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom filelock import FileLock\nlock = FileLock(sys.argv[1])\n"
         "lock.acquire()\nprint('held', flush=True)\ntime.sleep(120)", str(tmp_path / "index" / ".write.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        app.main(["--port", str(_free_port())])
    finally:
        holder.kill()
        holder.wait()
    assert len(launched) == 1
    assert "Another process is writing" in capsys.readouterr().err


# -- answering through an LLM (a scripted one): the draft streams in, the verified answer replaces it --

@pytest.fixture(scope="module")
def llm_app(bot):
    """The app over an assistant answering through a scripted LLM."""
    from fake_servers import ScriptedLLM

    from assistant.ui.web import create_demo

    llm = ScriptedLLM()
    assistant = Assistant(bot.settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second, llm=llm)
    demo = create_demo(assistant)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    yield demo, url, llm
    demo.close()


def test_answer_mode_offers_the_llm_first_when_one_is_configured(llm_app) -> None:
    demo = llm_app[0]
    dropdown = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "answer-mode")
    assert [value for _, value in dropdown.choices] == ["llm", "extractive"] and dropdown.value == "llm"


def test_llm_draft_streams_into_the_bubble_then_the_verified_answer_replaces_it(llm_app, bot) -> None:
    from gradio_client import Client

    _, url, llm = llm_app
    # Asked in Arabic: across languages the reader's margin for this question is below 0, and no
    # LLM sentence is then kept (the extractive answer follows).
    retriever = bot.parts.retriever
    hits = retriever.retrieve_with_vectors(AR_QUESTION, retriever.embed(AR_QUESTION), bot.settings.top_k)
    n = next(n for n, hit in enumerate(hits, start=1) if "مظلوم عبدي" in hit.text)
    llm.enqueue(f"القائد العام لقوات سوريا الديمقراطية هو «مظلوم عبدي» [{n}]. وقد وُلد عام 1967 [{n}].")
    job = Client(url, verbose=False).submit(AR_QUESTION, 5, "llm", api_name="/chat")
    job.result()
    bubbles = [_texts(chatbot)[-1] for chatbot, _, _ in job.outputs() if len(chatbot) == 2]
    drafts = [b for b in bubbles if "draft" in b]
    assert len(drafts) >= 2 and "1967" in drafts[-1]  # the draft grew as the LLM wrote it
    assert all(len(a) <= len(b) for a, b in zip(drafts, drafts[1:], strict=False))
    final = bubbles[-1]
    assert "draft" not in final and "done" in final and "1967" not in final
    assert "القائد العام لقوات سوريا الديمقراطية هو" in final and "مظلوم عبدي" in final  # the LLM's, verified
    assert 'href="#src-1-1"' in final
    assert llm.pending == 0


def test_extractive_mode_does_not_call_the_llm_and_failures_fall_back(llm_app) -> None:
    from gradio_client import Client

    _, url, llm = llm_app
    client = Client(url, verbose=False)
    calls = len(llm.prompts)
    chatbot, _, _ = client.predict(AR_QUESTION, 5, "extractive", api_name="/chat")
    assert len(llm.prompts) == calls and "مظلوم عبدي" in _texts(chatbot)[-1]

    llm.enqueue(ConnectionError("refused"), ConnectionError("refused"))  # the condense call, then the answer
    chatbot, _, _ = client.predict(AR_QUESTION, 5, "llm", api_name="/chat")
    reply = _texts(chatbot)[-1]
    assert len(chatbot) == 4 and "تعذّر الاتصال بالنموذج اللغوي" in reply and "مظلوم عبدي" in reply
    assert "Traceback" not in reply and llm.pending == 0


# -- evaluation tab ----------------------------------------------------------------------------------

def _record(qid: str, answerable: bool, grounded: bool, correct: bool, answer: str):
    from assistant.eval.scoring import Record

    return Record(qid, "ar", f"سؤال {qid} <i>?</i>", answer, grounded, answerable, correct, correct, [], [], 12.0)


def test_evaluation_report_shows_figures_and_puts_misses_first_escaped() -> None:
    from assistant.ui.html import render_eval_summary

    records = [_record("q-ok", True, True, True, "«ok» [1]"), _record("q-bad", True, True, False, "<b>x</b>"),
               _record("q-un", False, True, False, "«y» [1]")]
    html = render_eval_summary({"questions": 3, "answerable": 2, "unanswerable": 1, "accuracy_ar": 0.5,
                                "refusal_accuracy": 0.0, "hit@1": None}, records)
    assert "Answer accuracy, Arabic questions</td><td class=\"n\">0.5" in html and "hit@1" not in html
    assert html.index("q-bad") < html.index("q-ok") and html.index("q-un") < html.index("q-ok")
    assert "answered (should refuse)" in html and "wrong answer" in html
    assert "<b>" not in html and "<i>" not in html and "&lt;i&gt;" in html


def test_evaluate_tab_scores_an_uploaded_question_set_and_offers_the_records(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    rows = [{"id": "t-1", "lang": "ar", "question": "كم عدد الفارين من السجن بحسب أعماق؟", "answers": ["800"],
             "evidence": ["بلغ 800 عنصر"], "answerable": True},
            {"id": "t-2", "lang": "en", "question": "Who is the director of the prison?", "answers": [],
             "evidence": [], "answerable": False}]
    questions = tmp_path / "mine.jsonl"
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    html, records = client.predict(handle_file(str(questions)), "extractive", api_name="/evaluate")
    assert "Answer accuracy, Arabic questions" in html and "t-1" in html and "t-2" in html
    assert "Retrieval hit@5" in html  # retrieval is scored against the index's gold chunks
    lines = Path(records).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["t-1", "t-2"]


def test_evaluate_tab_names_the_bad_line_of_a_broken_question_set(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x", "lang": "ar"\n', encoding="utf-8")
    html, records = client.predict(handle_file(str(broken)), "extractive", api_name="/evaluate")
    assert 'role="alert"' in html and "line 1" in html and "Traceback" not in html
    assert records is None
