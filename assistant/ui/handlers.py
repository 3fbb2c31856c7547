"""What the web chat's events do: one method per Gradio event, over one assistant.

:func:`.web.create_demo` lays the page out and wires each event to a method of :class:`WebChat`.
The methods take and return plain values (HTML strings, a :class:`ChatSession`, Gradio updates), so
they run, and are tested, without a browser or a server.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from .. import Answer, Assistant, AssistantError, ChatSession
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
from .uploads import UPLOAD_MAX_MB, UploadRefused, remove_upload, store_upload

#: Question ids from ``assistant/data/questions.jsonl`` shown as examples.
EXAMPLE_IDS = ("ar-14", "ar-04", "ar-22", "en-01", "en-14", "en-04")
#: Conversation turns kept per browser session (shown, and used for follow-ups).
MAX_TURNS = 50
#: Streaming pace: characters per update and the pause between updates.
STREAM_STEP = 24
STREAM_PAUSE = 0.015


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
    """The conversation so far as the chatbot's messages."""
    out: list[dict[str, str]] = []
    for turn, past in enumerate(chat.history, start=1):
        out.append({"role": "user", "content": render_question(past.question)})
        out.append({"role": "assistant", "content": render_answer(past.answer, turn)})
    return out


def _turns(chat: ChatSession) -> list[tuple[str, Answer]]:
    return [(past.question, past.answer) for past in chat.history]


class WebChat:
    """The web chat's event handlers over one assistant, shared by every browser session.

    What belongs to one browser session (its conversation) comes in and goes out as an argument,
    never as state here, so sessions stay apart. A handler's docstring is its API endpoint's
    description on the page's "Use via API" panel.

    Args:
        assistant: Answers questions and holds the index.
        upload_max_mb: Largest file accepted on the Documents tab.
    """

    def __init__(self, assistant: Assistant, *, upload_max_mb: float = UPLOAD_MAX_MB) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.upload_max_mb = upload_max_mb
        self.uploads_dir = self.settings.index_dir / "uploads"
        self.modes = assistant.answer_modes  # the default first: "llm" when an LLM is configured

    # -- chat ----------------------------------------------------------------------------------------

    def conversation(self, top_k: int | None = None, mode: str | None = None, earlier: ChatSession | None = None
                     ) -> ChatSession:
        """A conversation answering with ``top_k`` passages (the settings') in ``mode`` (the default one),
        continuing ``earlier``'s history."""
        chat = self.assistant.chat(mode=self.modes[0] if mode is None else mode,
                                   top_k=self.settings.top_k if top_k is None else top_k, max_turns=MAX_TURNS)
        if earlier is not None:
            chat.history = earlier.history
        return chat

    def respond(self, question: str, chat: ChatSession | None, top_k: int, mode: str
                ) -> Iterator[tuple[Any, Any, Any, ChatSession]]:
        """Answer the next question of this browser session's conversation, streaming the reply.

        With an LLM the draft streams in as it is written, then the verified answer replaces it;
        an extractive answer is revealed a few words at a time.
        """
        chat = chat or self.conversation()
        if not question or not question.strip():
            yield gr.skip(), gr.skip(), gr.skip(), chat
            return
        asked = [*_messages(chat), {"role": "user", "content": render_question(question)}]
        yield [*asked, {"role": "assistant", "content": PENDING}], gr.skip(), "", chat
        shown = 0
        try:
            chat = self.conversation(int(top_k), mode, chat)  # the slider and the mode apply from this question on
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
        sources = render_sources(_turns(chat), document_names(self.assistant.documents()))  # sent as diffs
        # A streamed draft is replaced at once by the verified answer; otherwise reveal it gradually.
        for cut in [len(answer.text)] if draft else stream_cuts(answer.text, STREAM_STEP):
            if cut > STREAM_STEP and not draft:
                time.sleep(STREAM_PAUSE)
            reply = render_answer(answer, turn, upto=cut)
            yield [*asked, {"role": "assistant", "content": reply}], sources, gr.skip(), chat

    def new_chat(self, chat: ChatSession | None) -> tuple[list[dict[str, str]], str, ChatSession]:
        """Forget this browser session's conversation."""
        chat = chat or self.conversation()
        chat.reset()
        return [], EMPTY_SOURCES, chat

    def ask(self, question: str, top_k: int) -> dict[str, Any]:
        """Answer one question from the indexed documents; the JSON of ``assistant ask --json``.

        Raises:
            gr.Error: The assistant's message, shown to the caller instead of a traceback.
        """
        try:
            return self.assistant.ask(question, int(top_k)).to_dict()
        except AssistantError as error:
            raise gr.Error(str(error)) from None

    # -- documents -----------------------------------------------------------------------------------

    def documents_view(self) -> tuple[str, Any]:
        """The indexed documents as a table, and as the choices of the removal dropdown."""
        documents = self.assistant.documents()
        names = document_names(documents)
        choices = [(f"{d.title} — {names[d.source]} ({plural(d.chunks, 'passage')})", d.source) for d in documents]
        return render_documents(documents), gr.Dropdown(choices=choices, value=None)

    def _name_of(self, source: str) -> str:
        return document_names(self.assistant.documents()).get(source) or display_name(source)

    def add_documents(
        self, files: list[str] | None, progress: gr.Progress = gr.Progress()  # noqa: B008 - Gradio's idiom
    ) -> tuple[str, str, Any, None]:
        """Store and index uploaded files, reporting each one."""
        notices: list[tuple[str, str]] = []
        paths = [Path(f) for f in files or []]
        for done, path in enumerate(paths):
            shown = safe_file_name(path.name)
            progress((done, len(paths)), desc=f"Indexing {shown}")
            try:
                stored = store_upload(path, self.uploads_dir, self.upload_max_mb)
                report = self.assistant.index([stored], progress=False)
            except AssistantError as error:
                notices.append(("refused", str(error)))
                continue
            if report.skipped:
                remove_upload(str(stored), self.uploads_dir)  # nothing in the index refers to it
                notices.extend(("refused", f"{shown}: {reason}") for _, reason in report.skipped)
            elif report.unchanged:
                notices.append(("ok", f"{shown}: already indexed as {self._name_of(str(stored))}."))
            else:
                notices.append(("ok", f"{shown}: indexed, {plural(report.chunks_added, 'passage')}."))
        progress((len(paths), len(paths)), desc="Done")
        table, dropdown = self.documents_view()
        return render_notices(notices), table, dropdown, None

    def confirm_removal(self, source: str | None) -> tuple[str, Any, Any]:
        """Ask before removing: which document, and that it is gone from answers until indexed again."""
        if not source:
            return render_notices([("refused", "Choose a document to remove.")]), *_confirm_buttons(False)
        question = (f"Remove {self._name_of(source)} from the index? Answers stop citing it; "
                    "upload or index it again to bring it back.")
        return render_notices([("ask", question)]), *_confirm_buttons(True)

    def remove_document(self, source: str | None) -> tuple[str, str, Any, Any, Any]:
        """Remove a document from the index (and its stored upload)."""
        name = self._name_of(source) if source else ""
        if not source:
            notices = [("refused", "Choose a document to remove.")]
        elif self.assistant.remove(source):
            remove_upload(source, self.uploads_dir)
            notices = [("ok", f"Removed {name}.")]
        else:
            notices = [("refused", f"{name} is not in the index.")]
        table, dropdown = self.documents_view()
        return render_notices(notices), table, dropdown, *_confirm_buttons(False)

    def cancel_removal(self) -> tuple[str, Any, Any]:
        """Leave the document in the index and hide the confirmation buttons."""
        return render_notices([("ok", "Nothing was removed.")]), *_confirm_buttons(False)

    # -- evaluation ----------------------------------------------------------------------------------

    def run_evaluation(
        self, question_file: str | None, mode: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - Gradio's idiom
    ) -> tuple[str, str | None]:
        """Score the assistant on the shipped question set, or an uploaded one, as ``assistant eval`` does.

        Returns:
            The report as HTML, and the path of the per-question records (``None`` when it failed).
        """
        try:
            paths = [Path(question_file)] if question_file else None
            if paths and paths[0].suffix.lower() not in (".jsonl", ".json"):
                raise UploadRefused(f"{paths[0].name}: a question set is a .jsonl file, one question per line "
                                    '({"id", "lang", "question", "answers", "evidence", "answerable"}).')
            summary, records = self.assistant.evaluate(paths, progress=True, mode=mode)
        except AssistantError as error:
            return render_error(str(error)), None
        out = Path(tempfile.mkdtemp(prefix="assistant-eval-")) / "records.jsonl"
        return render_eval_summary(summary, records), str(write_records(records, out))
