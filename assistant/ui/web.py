"""The web chat: ask the documents in Arabic or English and check every answer against its passage.

Run ``assistant serve`` (or ``python app.py``, or ``make run``) and open http://127.0.0.1:7860. This
is a thin shell over the public API: :class:`assistant.Assistant` answers, :mod:`.html` turns answers
into escaped HTML, and everything here only wires Gradio events to them.
"""

from __future__ import annotations

import argparse
import errno
import json
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from .. import Answer, Assistant, AssistantError, ChatSession, IndexLockedError, Settings
from ..eval.reports import write_records
from ..ingest.loaders import safe_file_name
from .html import (
    EMPTY_SOURCES,
    PENDING,
    display_name,
    document_names,
    plural,
    render_answer,
    render_documents,
    render_draft,
    render_error,
    render_eval_summary,
    render_notices,
    render_question,
    render_sources,
    stream_cuts,
)
from .uploads import ACCEPTED_TYPES, UPLOAD_MAX_MB, UploadRefused, remove_upload, store_upload

#: Question ids from ``assistant/data/questions.jsonl`` shown as examples.
EXAMPLE_IDS = ("ar-14", "ar-04", "ar-22", "en-01", "en-15", "en-33")
#: Conversation turns kept per browser session (shown, and used for follow-ups).
MAX_TURNS = 50
#: Streaming pace: characters per update and the pause between updates.
STREAM_STEP = 24
STREAM_PAUSE = 0.015


#: The page's style, and its script (clicking or hovering a [n] reveals its passage; the question box
#: follows what is typed), package files beside this module.
CSS = (Path(__file__).with_name("static") / "web.css").read_text(encoding="utf-8")
JS = (Path(__file__).with_name("static") / "web.js").read_text(encoding="utf-8")


def load_examples(ids: Sequence[str] = EXAMPLE_IDS) -> dict[str, list[str]]:
    """Example questions by language (``"ar"``, ``"en"``), in the order of ``ids``, from the shipped set."""
    text = resources.files("assistant").joinpath("data/questions.jsonl").read_text(encoding="utf-8")
    by_id = {row["id"]: row for row in map(json.loads, filter(str.strip, text.splitlines()))}
    examples: dict[str, list[str]] = {"ar": [], "en": []}
    for row in (by_id[i] for i in ids if i in by_id and by_id[i].get("answerable", True)):
        examples.setdefault(row["lang"], []).append(row["question"])
    return examples


def _confirm_buttons(visible: bool) -> tuple[Any, Any]:
    """The "Yes, remove it" and "Cancel" buttons, shown while a removal waits for its answer."""
    return gr.Button(visible=visible), gr.Button(visible=visible)


def _messages(chat: ChatSession) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for turn, past in enumerate(chat.history, start=1):
        out.append({"role": "user", "content": render_question(past.question)})
        out.append({"role": "assistant", "content": render_answer(past.answer, turn)})
    return out


def _turns(chat: ChatSession) -> list[tuple[str, Answer]]:
    return [(past.question, past.answer) for past in chat.history]


def create_demo(assistant: Assistant, *, upload_max_mb: float = UPLOAD_MAX_MB) -> gr.Blocks:
    """The web UI over an assistant: chat with sources, documents, settings, and the ``/ask`` API.

    Args:
        assistant: Answers questions and holds the index; shared by every browser session.
        upload_max_mb: Largest file accepted on the Documents tab.
    """
    settings = assistant.settings
    uploads_dir = settings.index_dir / "uploads"

    modes = assistant.answer_modes  # the default first: "llm" when an LLM is configured

    def conversation(top_k: int = settings.top_k, mode: str = modes[0], earlier: ChatSession | None = None
                     ) -> ChatSession:
        """A conversation answering with ``top_k`` passages in ``mode``, continuing ``earlier``'s history."""
        chat = assistant.chat(mode=mode, top_k=top_k, max_turns=MAX_TURNS)
        if earlier is not None:
            chat.history = earlier.history
        return chat

    def respond(question: str, chat: ChatSession | None, top_k: int, mode: str
                ) -> Iterator[tuple[Any, Any, Any, ChatSession]]:
        """Answer the next question of this browser session's conversation, streaming the reply.

        With an LLM the draft streams in as it is written, then the verified answer replaces it;
        an extractive answer is revealed a few words at a time.
        """
        chat = chat or conversation()
        if not question or not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), chat
            return
        asked = [*_messages(chat), {"role": "user", "content": render_question(question)}]
        yield [*asked, {"role": "assistant", "content": PENDING}], gr.skip(), "", chat
        shown = 0
        try:
            chat = conversation(int(top_k), mode, chat)  # the slider and the mode apply from this question on
            stream = chat.ask_stream(question)
            for _ in stream:
                if len(stream.draft) - shown >= STREAM_STEP:
                    shown = len(stream.draft)
                    yield [*asked, {"role": "assistant", "content": render_draft(stream.draft)}], \
                        gr.skip(), gr.skip(), chat
            answer = stream.answer()
        except AssistantError as error:
            yield [*asked, {"role": "assistant", "content": render_error(str(error))}], gr.skip(), gr.skip(), chat
            return
        draft = stream.draft
        turn = len(chat.history)
        sources = render_sources(_turns(chat), document_names(assistant.documents()))  # sent as diffs
        # A streamed draft is replaced at once by the verified answer; otherwise reveal it gradually.
        for cut in [len(answer.text)] if draft else stream_cuts(answer.text, STREAM_STEP):
            if cut > STREAM_STEP and not draft:
                time.sleep(STREAM_PAUSE)
            reply = render_answer(answer, turn, upto=cut)
            yield [*asked, {"role": "assistant", "content": reply}], sources, gr.skip(), chat

    def new_chat(chat: ChatSession | None) -> tuple[list[dict[str, str]], str, ChatSession]:
        """Forget this browser session's conversation."""
        chat = chat or conversation()
        chat.reset()
        return [], EMPTY_SOURCES, chat

    def ask(question: str, top_k: int = settings.top_k) -> dict[str, Any]:
        """Answer one question from the indexed documents; the JSON of ``assistant ask --json``."""
        try:
            return assistant.ask(question, int(top_k)).to_dict()
        except AssistantError as error:
            raise gr.Error(str(error)) from None

    def documents_view() -> tuple[str, Any]:
        documents = assistant.documents()
        names = document_names(documents)
        choices = [(f"{d.title} — {names[d.source]} ({plural(d.chunks, 'passage')})", d.source) for d in documents]
        return render_documents(documents), gr.Dropdown(choices=choices, value=None)

    def name_of(source: str) -> str:
        return document_names(assistant.documents()).get(source) or display_name(source)

    def add_documents(
        files: list[str] | None, progress: gr.Progress = gr.Progress()  # noqa: B008 - Gradio's idiom
    ) -> tuple[str, str, Any, None]:
        """Store and index uploaded files, reporting each one."""
        notices: list[tuple[str, str]] = []
        paths = [Path(f) for f in files or []]
        for done, path in enumerate(paths):
            shown = safe_file_name(path.name)
            progress((done, len(paths)), desc=f"Indexing {shown}")
            try:
                stored = store_upload(path, uploads_dir, upload_max_mb)
                report = assistant.index([stored], progress=False)
            except AssistantError as error:
                notices.append(("refused", str(error)))
                continue
            if report.skipped:
                remove_upload(str(stored), uploads_dir)  # nothing in the index refers to it
                notices.extend(("refused", f"{shown}: {reason}") for _, reason in report.skipped)
            elif report.unchanged:
                notices.append(("ok", f"{shown}: already indexed as {name_of(str(stored))}."))
            else:
                notices.append(("ok", f"{shown}: indexed, {plural(report.chunks_added, 'passage')}."))
        progress((len(paths), len(paths)), desc="Done")
        table, dropdown = documents_view()
        return render_notices(notices), table, dropdown, None

    def confirm_removal(source: str | None) -> tuple[str, Any, Any]:
        """Ask before removing: which document, and that it is gone from answers until indexed again."""
        if not source:
            return render_notices([("refused", "Choose a document to remove.")]), *_confirm_buttons(False)
        question = (f"Remove {name_of(source)} from the index? Answers stop citing it; "
                    "upload or index it again to bring it back.")
        return render_notices([("ask", question)]), *_confirm_buttons(True)

    def remove_document(source: str | None) -> tuple[str, str, Any, Any, Any]:
        """Remove a document from the index (and its stored upload)."""
        name = name_of(source) if source else ""
        if not source:
            notices = [("refused", "Choose a document to remove.")]
        elif assistant.remove(source):
            remove_upload(source, uploads_dir)
            notices = [("ok", f"Removed {name}.")]
        else:
            notices = [("refused", f"{name} is not in the index.")]
        table, dropdown = documents_view()
        return render_notices(notices), table, dropdown, *_confirm_buttons(False)

    def cancel_removal() -> tuple[str, Any, Any]:
        return render_notices([("ok", "Nothing was removed.")]), *_confirm_buttons(False)

    def run_evaluation(
        question_file: str | None, mode: str, progress: gr.Progress = gr.Progress(track_tqdm=True)  # noqa: B008
    ) -> tuple[str, str | None]:
        """Score the assistant on the shipped question set, or an uploaded one, as ``assistant eval`` does."""
        try:
            paths = [Path(question_file)] if question_file else None
            if paths and paths[0].suffix.lower() not in (".jsonl", ".json"):
                raise UploadRefused(f"{paths[0].name}: a question set is a .jsonl file, one question per line "
                                    '({"id", "lang", "question", "answers", "evidence", "answerable"}).')
            summary, records = assistant.evaluate(paths, progress=True, mode=mode)
        except AssistantError as error:
            return render_error(str(error)), None
        out = Path(tempfile.mkdtemp(prefix="assistant-eval-")) / "records.jsonl"
        return render_eval_summary(summary, records), str(write_records(records, out))

    examples = load_examples()
    with gr.Blocks(title="Document QA · أسئلة المستندات", analytics_enabled=False) as demo:
        gr.HTML('<h2>Ask the documents · اسأل المستندات</h2>'
                '<p dir="auto">Every answer quotes its passage; click a [n] to see it.</p>'
                '<p dir="auto">كل إجابة تقتبس فقرتها؛ انقر على [n] لرؤيتها.</p>', elem_id="intro")
        chat_state = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Chat · المحادثة"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=560, render_markdown=False,
                                             sanitize_html=True, feedback_options=None, show_label=False,
                                             buttons=["copy"], layout="panel")
                        question = gr.Textbox(label="Question", elem_id="question", show_label=False, lines=1,
                                              max_lines=6, autofocus=True,
                                              placeholder="اكتب سؤالك… · Type your question…")
                        with gr.Row():
                            send = gr.Button("Ask · اسأل", variant="primary", elem_id="send")
                            stop = gr.Button("Stop · إيقاف", variant="stop", elem_id="stop")
                            clear = gr.Button("New chat · محادثة جديدة", elem_id="new-chat")
                        gr.Examples([[q] for q in examples["ar"]], inputs=[question], label="أمثلة")
                        gr.Examples([[q] for q in examples["en"]], inputs=[question], label="Examples")
                    with gr.Column(scale=2, min_width=300):
                        # Gradio 6 takes page CSS only in launch(); the panel's head carries it so
                        # create_demo() alone yields the complete page (tests, `gradio app.py`).
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources", head=f"<style>{CSS}</style>",
                                          js_on_load=JS, label="Sources")
                with gr.Accordion("Settings · الإعدادات", open=False):
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to search (top-k)")
                    mode = gr.Dropdown(list(modes), value=modes[0], label="Answer mode", elem_id="answer-mode",
                                       info="llm: your LLM's answer, each sentence verified against its passage "
                                            "(ASSISTANT_LLM); extractive: quotes the documents.")
            with gr.Tab("Documents · المستندات") as documents_tab:
                files = gr.File(file_count="multiple", elem_id="upload",
                                label=f"Add documents ({' '.join(ACCEPTED_TYPES)}; up to {upload_max_mb:g} MB each)")
                notices = gr.HTML("", label="Upload status", elem_id="upload-status")
                documents = gr.HTML("", label="Indexed documents", elem_id="documents")
                with gr.Row():
                    to_remove = gr.Dropdown([], label="Document", scale=3, elem_id="remove-choice")
                    remove = gr.Button("Remove from index…", variant="stop", scale=1, elem_id="remove")
                with gr.Row():
                    confirm = gr.Button("Yes, remove it", variant="stop", visible=False, elem_id="remove-yes")
                    cancel = gr.Button("Cancel", visible=False, elem_id="remove-cancel")

            with gr.Tab("Evaluate · التقييم"):
                gr.Markdown("Score the answers against a fixed question set: the shipped one about the article, "
                            "or your own JSONL (`{\"id\", \"lang\", \"question\", \"answers\", \"evidence\", "
                            "\"answerable\"}` per line). Uses the answer mode chosen in the chat settings.")
                with gr.Row():
                    question_set = gr.File(label="Question set (.jsonl, optional)", file_types=[".jsonl"],
                                           elem_id="question-set", scale=3)
                    evaluate = gr.Button("Run evaluation · تشغيل التقييم", variant="primary", scale=1,
                                         elem_id="run-eval")
                report = gr.HTML("", label="Evaluation", elem_id="eval-report")
                records_file = gr.File(label="Per-question records (JSONL)", interactive=False, elem_id="eval-records")

        chat_event = gr.on([question.submit, send.click], respond, [question, chat_state, top_k, mode],
                           [chatbot, sources, question, chat_state], api_name="chat", show_progress="hidden")
        stop.click(None, cancels=[chat_event], api_visibility="private",
                   js="() => document.querySelectorAll('#chat .pending').forEach((e) => e.classList.add('stopped'))")
        clear.click(new_chat, [chat_state], [chatbot, sources, chat_state], api_name="new_chat")
        files.upload(add_documents, [files], [notices, documents, to_remove, files], api_name="upload",
                     concurrency_id="index", concurrency_limit=1)
        remove.click(confirm_removal, [to_remove], [notices, confirm, cancel], api_name="confirm_remove")
        confirm.click(remove_document, [to_remove], [notices, documents, to_remove, confirm, cancel],
                      api_name="remove", concurrency_id="index", concurrency_limit=1)
        cancel.click(cancel_removal, None, [notices, confirm, cancel], api_name="cancel_remove")
        documents_tab.select(documents_view, None, [documents, to_remove], api_name="documents")
        evaluate.click(run_evaluation, [question_set, mode], [report, records_file], api_name="evaluate",
                       concurrency_id="evaluate", concurrency_limit=1)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=8)
    return demo


def parse_auth(value: str) -> tuple[str, str] | None:
    """``"user:password"`` (from ``ASSISTANT_AUTH``) as a pair; ``None`` when empty.

    Raises:
        AssistantError: The value has no ``:`` or an empty part.
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise AssistantError("ASSISTANT_AUTH must look like user:password (both non-empty); "
                             "unset it to run without login.")
    return user, password


def parse_args(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    """Command-line options; defaults come from ``settings`` (``ASSISTANT_HOST``, ``ASSISTANT_PORT``)."""
    return build_arg_parser(settings).parse_args(argv)


def build_arg_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The web chat's options (``--host``, ``--port``, ``--share``), defaulting to ``settings``."""
    settings = settings or Settings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default=settings.host, help="address to bind (ASSISTANT_HOST, else "
                        "GRADIO_SERVER_NAME; default %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=settings.port,
                        help="port (ASSISTANT_PORT, else GRADIO_SERVER_PORT; default %(default)s)")
    parser.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    return parser


def port_problem(host: str, port: int) -> str:
    """Why the web chat cannot listen on ``host:port``, with the fix; ``""`` when it can.

    Probed the way the server binds (uvicorn sets SO_REUSEADDR), so the TIME_WAIT sockets a killed
    server leaves behind do not refuse a restart that the server itself would accept.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))  # still refused (EADDRINUSE) while any server listens there
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another `make run` or app.py?); stop it, or "
                        f"choose another port: ASSISTANT_PORT={port + 1} make run")
            return (f"cannot listen on {host}:{port} ({error.strerror or error}); set ASSISTANT_HOST and "
                    "ASSISTANT_PORT to an address of this machine")
    return ""


def main(argv: Sequence[str] | None = None) -> None:
    """``python app.py [--host H] [--port P] [--share]``: :func:`serve` with the environment's settings."""
    try:
        settings = Settings.from_env()
    except AssistantError as error:
        sys.exit(f"error: {error}")
    args = parse_args(argv, settings)
    serve(settings, args.host, args.port, share=args.share)


def serve(settings: Settings, host: str, port: int, *, share: bool = False) -> None:
    """Build or check the index, then serve the web UI on ``host:port`` until stopped.

    Exits with a one-line message (never a traceback) when the settings, the port or the index
    are not usable.
    """
    try:
        auth = parse_auth(settings.auth)
        problem = port_problem(host, port)
        if problem:
            raise AssistantError(problem)
        assistant = Assistant(settings)
        try:
            report = assistant.ensure_index()
        except IndexLockedError as error:
            # Another process is indexing: serve what is there now; its documents appear when it is done.
            print(f"note: {error} Serving the index as it is.", file=sys.stderr)
            report = None
    except AssistantError as error:
        sys.exit(f"error: {error}")
    if report is not None:
        print(f"Index: {report.summary()}")
    # Load the reader now, so the first question does not wait for it and a weights problem is said once.
    _ = assistant.reader_answerer
    for note in assistant.notes:
        print(f"note: {note}", file=sys.stderr)
    try:
        create_demo(assistant).launch(server_name=host, server_port=port, share=share, auth=auth)
    except OSError as error:  # lost a race for the port, or --share could not reach gradio.live
        sys.exit(f"error: could not start the web chat: {error}")


if __name__ == "__main__":
    main()
