"""The web chat: ask the documents in Arabic or English and check every answer against its passage.

Run ``assistant serve`` (or ``python app.py``, or ``make run``) and open http://127.0.0.1:7860. This
is a thin shell over the public API: :class:`assistant.Assistant` answers, :mod:`.html` turns answers
into escaped HTML, :class:`.handlers.WebChat` does what each event asks, and everything here only lays
the page out and wires its events to those handlers.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from .. import Assistant, AssistantError, IndexLockedError, Settings
from .handlers import WebChat, load_examples
from .html import EMPTY_SOURCES
from .options import serve_options
from .uploads import ACCEPTED_TYPES, UPLOAD_MAX_MB

#: The page's style, and its script (clicking or hovering a [n] reveals its passage; the question box
#: follows what is typed), package files beside this module.
CSS = (Path(__file__).with_name("static") / "web.css").read_text(encoding="utf-8")
JS = (Path(__file__).with_name("static") / "web.js").read_text(encoding="utf-8")


def create_demo(assistant: Assistant, *, upload_max_mb: float = UPLOAD_MAX_MB) -> gr.Blocks:
    """The web UI over an assistant: chat with sources, documents, settings, and the ``/ask`` API.

    The layout and its wiring; what each event does is a method of :class:`.handlers.WebChat`.

    Args:
        assistant: Answers questions and holds the index; shared by every browser session.
        upload_max_mb: Largest file accepted on the Documents tab.
    """
    web = WebChat(assistant, upload_max_mb=upload_max_mb)
    settings, modes, examples = web.settings, web.modes, load_examples()

    def ask(question: str, top_k: int = settings.top_k) -> dict[str, Any]:  # the API shows the settings' top_k
        """Answer one question from the indexed documents; the JSON of ``assistant ask --json``."""
        return web.ask(question, top_k)

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
            _documents_tab(web, upload_max_mb)
            _evaluate_tab(web, mode)

        chat_event = gr.on([question.submit, send.click], web.respond, [question, chat_state, top_k, mode],
                           [chatbot, sources, question, chat_state], api_name="chat", show_progress="hidden")
        stop.click(None, cancels=[chat_event], api_visibility="private",
                   js="() => document.querySelectorAll('#chat .pending').forEach((e) => e.classList.add('stopped'))")
        clear.click(web.new_chat, [chat_state], [chatbot, sources, chat_state], api_name="new_chat")
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=8)
    return demo


def _documents_tab(web: WebChat, upload_max_mb: float) -> None:
    """The Documents tab: upload documents, list them, remove one (after a confirmation)."""
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
    files.upload(web.add_documents, [files], [notices, documents, to_remove, files], api_name="upload",
                 concurrency_id="index", concurrency_limit=1)
    remove.click(web.confirm_removal, [to_remove], [notices, confirm, cancel], api_name="confirm_remove")
    confirm.click(web.remove_document, [to_remove], [notices, documents, to_remove, confirm, cancel],
                  api_name="remove", concurrency_id="index", concurrency_limit=1)
    cancel.click(web.cancel_removal, None, [notices, confirm, cancel], api_name="cancel_remove")
    documents_tab.select(web.documents_view, None, [documents, to_remove], api_name="documents")


def _evaluate_tab(web: WebChat, mode: gr.Dropdown) -> None:
    """The Evaluate tab: score the answers (in the chat's answer ``mode``) on a question set."""
    with gr.Tab("Evaluate · التقييم"):
        gr.Markdown("Score the answers against a fixed question set: the shipped one about the article, "
                    "or your own JSONL (`{\"id\", \"lang\", \"question\", \"answers\", \"evidence\", "
                    "\"answerable\"}` per line). Uses the answer mode chosen in the chat settings.")
        with gr.Row():
            question_set = gr.File(label="Question set (.jsonl, optional)", file_types=[".jsonl"],
                                   elem_id="question-set", scale=3)
            evaluate = gr.Button("Run evaluation · تشغيل التقييم", variant="primary", scale=1, elem_id="run-eval")
        report = gr.HTML("", label="Evaluation", elem_id="eval-report")
        records_file = gr.File(label="Per-question records (JSONL)", interactive=False, elem_id="eval-records")
    evaluate.click(web.run_evaluation, [question_set, mode], [report, records_file], api_name="evaluate",
                   concurrency_id="evaluate", concurrency_limit=1)


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
    """``python app.py``'s parser: :func:`serve_options`."""
    return argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0], parents=[serve_options(settings)])


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
        settings = Settings()
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
    _ = assistant.parts.reader_answerer
    for note in assistant.notes:
        print(f"note: {note}", file=sys.stderr)
    try:
        create_demo(assistant).launch(server_name=host, server_port=port, share=share, auth=auth)
    except OSError as error:  # lost a race for the port, or --share could not reach gradio.live
        sys.exit(f"error: could not start the web chat: {error}")


if __name__ == "__main__":
    main()
