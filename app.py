"""The web chat: ask the documents in Arabic or English and check every answer against its passage.

Run ``python app.py`` (or ``make run``) and open http://127.0.0.1:7860. This is a thin shell over
the public API: :class:`assistant.Assistant` answers, :mod:`assistant.render` turns answers
into escaped HTML, and everything here only wires Gradio events to them.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import Answer, Assistant, AssistantError, ChatSession, IndexLockedError, Settings
from assistant.evaluate import write_records
from assistant.loaders import SUPPORTED_SUFFIXES, safe_file_name
from assistant.render import (
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

#: Largest upload accepted through the page, in MB (the index itself allows ``Settings.max_file_mb``).
UPLOAD_MAX_MB = 20.0
#: File types the loaders read; anything else is refused before it is stored.
ACCEPTED_TYPES = SUPPORTED_SUFFIXES
#: Hex digits of an upload's sha256 naming its folder (64 bits: collisions are not a concern).
UPLOAD_HASH_CHARS = 16
#: Question ids from ``assistant/data/questions.jsonl`` shown as examples.
EXAMPLE_IDS = ("ar-14", "ar-04", "ar-22", "en-01", "en-15", "en-33")
#: Conversation turns kept per browser session (shown, and used for follow-ups).
MAX_TURNS = 50
#: Streaming pace: characters per update and the pause between updates.
STREAM_STEP = 24
STREAM_PAUSE = 0.015

CSS = """
#chat .message-content, #chat .message { text-align: start; }
/* Lines get dir="auto" or inherit the answer's direction; plaintext here would turn "7 — «…»" LTR. */
.question p, .answer p, .answer li { margin: 0 0 .35em; text-align: start; }
.answer ul { margin: 0 0 .35em; padding-inline-start: 1.2em; }
.answer { padding-inline-start: .7em; border-inline-start: 3px solid transparent; }
.answer.grounded { border-inline-start-color: var(--color-accent); }
.answer.refusal { border-inline-start: 3px dashed #b45309; color: var(--body-text-color-subdued); font-style: italic; }
.answer.error { border-inline-start: 3px solid #b91c1c; color: #b91c1c; }
.answer .badge { display: inline-block; font-style: normal; font-size: .8em; padding: 0 .5em; margin-bottom: .3em;
  border-radius: 1em; background: #fef3c7; color: #92400e; }
.answer .quote { unicode-bidi: plaintext; }
.answer .quote.block { display: block; text-align: start; margin: .15em 0 .3em; padding-inline-start: .6em;
  border-inline-start: 2px solid var(--border-color-primary); }
.answer[lang="ar"], .passage:dir(rtl), .question p:dir(rtl) { font-size: 1.06em; line-height: 1.75; }
a.cite { unicode-bidi: isolate; font-weight: 600; text-decoration: none; padding: 0 .15em; border-radius: 4px;
  background: var(--color-accent-soft); color: var(--color-accent); font-style: normal; }
a.cite:hover, a.cite:focus { background: var(--color-accent); color: white; }
.answer.draft { color: var(--body-text-color-subdued); }
.pending .dots { display: inline-block; animation: blink 1s infinite; }
@keyframes blink { 50% { opacity: .3; } }
.pending.stopped .dots { animation: none; } .pending.stopped::after { content: " ⏹"; }
#question textarea { unicode-bidi: plaintext; text-align: start; }
.eval table { border-collapse: collapse; margin: .4em 0 1em; }
.eval td, .eval th { padding: .2em .6em; border-bottom: 1px solid var(--border-color-primary); text-align: start; }
.eval td.n { text-align: end; font-variant-numeric: tabular-nums; }
.eval tr.miss td:nth-child(3) { color: #b91c1c; }
.sources { max-height: 70vh; overflow-y: auto; padding: .2em; }
.sources.empty p { color: var(--body-text-color-subdued); margin: .3em 0; }
.sources details.turn { margin-bottom: .6em; }
.sources summary { cursor: pointer; font-weight: 600; text-align: start; }
.sources summary .q { font-weight: 400; color: var(--body-text-color-subdued); unicode-bidi: isolate; }
.sources ol.cards { list-style: none; padding: 0; margin: .3em 0; }
.source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .45em .7em; margin: .45em 0;
  scroll-margin: .5em; transition: background .2s, outline-color .2s; outline: 2px solid transparent; }
.source.active, .source:target { outline-color: var(--color-accent); background: var(--color-accent-soft); }
.source .meta { font-size: .85em; display: flex; flex-wrap: wrap; gap: .4em; align-items: baseline; }
.source .num { font-weight: 700; color: var(--color-accent); }
.source .doc { font-weight: 600; unicode-bidi: isolate; }
.source .where { color: var(--body-text-color-subdued); unicode-bidi: isolate; }
.source .passage { display: block; margin: .3em 0 0; white-space: pre-wrap; text-align: start; unicode-bidi: plaintext;
  line-height: 1.7; }
.source mark { background: #fde68a; color: inherit; border-radius: 3px; padding: 0 .1em; }
.source mark .span { background: #f59e0b; border-radius: 3px; padding: 0 .1em; }
.dark .source mark { background: #854d0e; }
.dark .source mark .span { background: #b45309; }
#documents .doc-list { width: 100%; border-collapse: collapse; }
#documents .doc-list td, #documents .doc-list th { padding: .3em .6em; text-align: start; }
#documents .doc-list .n { text-align: end; font-variant-numeric: tabular-nums; }
.notices { list-style: none; padding: 0; } .notices .refused { color: #b91c1c; } .notices .ok { color: #15803d; }
.notices .ask { color: #b45309; font-weight: 600; }
"""

# Clicking or hovering a [n] reveals its passage; the question box follows what is typed.
# Installed once per page, on document level, because the chat re-renders its messages.
JS = """
if (!window.__sourcesNav) {
  window.__sourcesNav = true;
  const cardFor = (a) => document.getElementById(decodeURIComponent(a.hash.slice(1)));
  const reveal = (card, page) => {
    const turn = card.closest('details'); if (turn) turn.open = true;
    document.querySelectorAll('.source.active').forEach((e) => e.classList.remove('active'));
    card.classList.add('active');
    const box = card.closest('.sources');
    if (page) { card.scrollIntoView({block: 'nearest'}); return; }
    const r = card.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - 8;
  };
  const citeOf = (e) => e.target instanceof Element ? e.target.closest('a.cite') : null;
  document.addEventListener('click', (e) => {
    const a = citeOf(e), card = a && cardFor(a);
    if (card) { e.preventDefault(); reveal(card, true); }
  });
  for (const type of ['mouseover', 'focusin']) {
    document.addEventListener(type, (e) => {
      const a = citeOf(e), card = a && cardFor(a);
      if (card) reveal(card, false);
    });
  }
  const follow = (t) => { if (t instanceof HTMLTextAreaElement && t.closest('#question')) t.dir = 'auto'; };
  document.addEventListener('focusin', (e) => follow(e.target));
  document.querySelectorAll('#question textarea').forEach(follow);
}
"""


def load_examples(ids: Sequence[str] = EXAMPLE_IDS) -> dict[str, list[str]]:
    """Example questions by language (``"ar"``, ``"en"``), in the order of ``ids``, from the shipped set."""
    text = resources.files("assistant").joinpath("data/questions.jsonl").read_text(encoding="utf-8")
    by_id = {row["id"]: row for row in map(json.loads, filter(str.strip, text.splitlines()))}
    examples: dict[str, list[str]] = {"ar": [], "en": []}
    for row in (by_id[i] for i in ids if i in by_id and by_id[i].get("answerable", True)):
        examples.setdefault(row["lang"], []).append(row["question"])
    return examples


class UploadRefused(AssistantError):
    """An uploaded file was not stored; the message says why and what is accepted."""


def store_upload(path: Path, uploads_dir: Path, max_mb: float = UPLOAD_MAX_MB, name: str = "") -> Path:
    """Copy an uploaded file to ``uploads_dir/<sha256 prefix>/<its name, made safe>``.

    Stored by content (the same bytes uploaded again are the same document), listed and cited by
    the name the user gave it (``name``, else the file's own). Nothing of the client's name reaches
    the path but its safe last component.

    Raises:
        UploadRefused: The type is not accepted or the file is larger than ``max_mb``.
    """
    shown = safe_file_name(name or path.name)
    suffix = path.suffix.lower()
    if suffix not in ACCEPTED_TYPES:
        raise UploadRefused(f"{shown}: {suffix or 'no extension'} files are not accepted; "
                            f"upload one of {', '.join(ACCEPTED_TYPES)}.")
    size = path.stat().st_size
    if size > max_mb * 1_000_000:
        raise UploadRefused(f"{shown}: {size / 1e6:.1f} MB is over the {max_mb:g} MB upload limit; "
                            "split the document or index it with `assistant index`.")
    data = path.read_bytes()
    folder = uploads_dir / hashlib.sha256(data).hexdigest()[:UPLOAD_HASH_CHARS]
    earlier = sorted(folder.glob("*")) if folder.is_dir() else []
    if earlier:
        return earlier[0]  # these bytes are stored already, under the name first given to them
    target = folder / f"{Path(shown).stem}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def remove_upload(source: str, uploads_dir: Path) -> None:
    """Delete the stored copy of an uploaded document (and its folder); other sources are left alone."""
    stored = Path(source)
    if stored.parent.parent.resolve() == uploads_dir.resolve():
        stored.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            stored.parent.rmdir()
    elif stored.parent.resolve() == uploads_dir.resolve():  # the flat <sha256>.<ext> layout of earlier versions
        stored.unlink(missing_ok=True)


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
        answer: Answer | None = None
        drafted = shown = 0
        draft: list[str] = []
        try:
            chat = conversation(int(top_k), mode, chat)  # the slider and the mode apply from this question on
            for event in chat.ask_stream(question):
                if isinstance(event, Answer):
                    answer = event
                    continue
                draft.append(event)
                drafted += len(event)
                if drafted - shown >= STREAM_STEP:
                    shown = drafted
                    yield [*asked, {"role": "assistant", "content": render_draft("".join(draft))}], \
                        gr.skip(), gr.skip(), chat
        except AssistantError as error:
            yield [*asked, {"role": "assistant", "content": render_error(str(error))}], gr.skip(), gr.skip(), chat
            return
        assert answer is not None  # ask_stream always ends with the answer
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default=settings.host, help="address to bind (ASSISTANT_HOST, else "
                        "GRADIO_SERVER_NAME; default %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=settings.port,
                        help="port (ASSISTANT_PORT, else GRADIO_SERVER_PORT; default %(default)s)")
    parser.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    return parser.parse_args(argv)


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
    """Build or check the index, then serve the web UI (127.0.0.1 unless told otherwise)."""
    try:
        settings = Settings.from_env()
        args = parse_args(argv, settings)
        auth = parse_auth(settings.auth)
        problem = port_problem(args.host, args.port)
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
        create_demo(assistant).launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth)
    except OSError as error:  # lost a race for the port, or --share could not reach gradio.live
        sys.exit(f"error: could not start the web chat: {error}")


if __name__ == "__main__":
    main()
