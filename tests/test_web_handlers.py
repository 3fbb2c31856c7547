"""The web chat's event handlers, called directly over a fake assistant: no model, server or browser.

``tests/test_app.py`` drives the same handlers through the launched app with the real assistant.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from assistant import Answer, ChatSession, Chunk, Citation, DocumentInfo, InvalidQuestionError
from assistant.ui.handlers import WebChat
from assistant.ui.html import PENDING, render_question

PASSAGE = "The ferry leaves at nine. It returns at noon."
QUOTE = "The ferry leaves at nine."


class FakeAssistant:
    """What :class:`WebChat` uses of an :class:`assistant.Assistant`: every answer quotes the one
    passage, a question reading ``"?"`` is refused as invalid, and documents live in a dict."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.answer_modes = ("extractive",)
        self.indexed = {"docs/ferry.txt": DocumentInfo("docs/ferry.txt", "Ferry", 1, "h1")}
        self.asked: list[tuple[str, int | None]] = []

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        if question.strip() == "?":
            raise InvalidQuestionError("The question has no letters or digits; ask it in words.")
        self.asked.append((question, top_k))
        chunk = Chunk("c1", "docs/ferry.txt", "Ferry", 1, 0, len(PASSAGE), PASSAGE)
        citation = Citation.of(1, chunk, 0.9, quote=QUOTE, quote_start=0, quote_end=len(QUOTE))
        return Answer(f"At nine — «{QUOTE}» [1]", True, "en", [citation], question=question, short="At nine")

    def chat(self, *, mode: str | None = None, top_k: int | None = None, max_turns: int = 20) -> ChatSession:
        return ChatSession(lambda question, _standalone: self.ask(question, top_k), max_turns=max_turns)

    def documents(self) -> list[DocumentInfo]:
        return list(self.indexed.values())

    def remove(self, source: str) -> bool:
        return self.indexed.pop(source, None) is not None


@pytest.fixture
def web(settings_base, tmp_path: Path) -> WebChat:
    return WebChat(FakeAssistant(settings_base.replace(index_dir=tmp_path / "index")))  # type: ignore[arg-type]


def _texts(messages: list[dict[str, str]]) -> list[str]:
    return [m["content"] for m in messages]


def test_respond_shows_the_question_at_once_then_the_answer_with_its_sources(web: WebChat) -> None:
    updates = list(web.respond("When does the ferry leave?", None, 3, "extractive"))
    messages, sources, box, chat = updates[0]
    assert _texts(messages) == [render_question("When does the ferry leave?"), PENDING]
    assert sources == gr.skip() and box == ""  # the question box empties as soon as it is asked
    messages, sources, box, chat = updates[-1]
    assert len(messages) == 2 and "«" in _texts(messages)[1] and 'href="#src-1-1"' in _texts(messages)[1]
    assert "<mark>The ferry leaves at nine.</mark>" in sources and box == gr.skip()
    assert web.assistant.asked == [("When does the ferry leave?", 3)]  # the slider's top-k
    assert len(chat.history) == 1

    follow_up = list(web.respond("And when does it return?", chat, 5, "extractive"))
    messages, _, _, chat = follow_up[-1]
    assert len(messages) == 4 and len(chat.history) == 2  # the same conversation, continued


def test_respond_ignores_a_blank_question_and_shows_errors_as_a_message(web: WebChat) -> None:
    (blank,) = web.respond("   ", None, 5, "extractive")
    assert blank[:3] == (gr.skip(), gr.skip(), gr.skip()) and isinstance(blank[3], ChatSession)

    *_, (messages, sources, _, chat) = web.respond("?", None, 5, "extractive")
    assert 'role="alert"' in _texts(messages)[-1] and "ask it in words" in _texts(messages)[-1]
    assert sources == gr.skip() and chat.history == []


def test_new_chat_forgets_the_conversation(web: WebChat) -> None:
    *_, (_, _, _, chat) = web.respond("When does the ferry leave?", None, 5, "extractive")
    messages, sources, same = web.new_chat(chat)
    assert messages == [] and "src-" not in sources and same is chat and chat.history == []


def test_ask_returns_the_cli_json_and_errors_as_gradio_messages(web: WebChat) -> None:
    reply = web.ask("When does the ferry leave?", 4)
    assert reply["short"] == "At nine" and reply["citations"][0]["quote"] == QUOTE
    assert web.assistant.asked[-1] == ("When does the ferry leave?", 4)
    with pytest.raises(gr.Error, match="ask it in words"):
        web.ask("?", 4)


def test_removal_asks_first_then_removes_and_says_what_happened(web: WebChat) -> None:
    notice, yes, cancel = web.confirm_removal(None)
    assert "Choose a document to remove." in notice and not yes.visible and not cancel.visible

    notice, yes, cancel = web.confirm_removal("docs/ferry.txt")
    assert "Remove ferry.txt from the index?" in notice and yes.visible and cancel.visible
    assert web.assistant.indexed  # nothing removed before the answer

    notice, _, _ = web.cancel_removal()
    assert "Nothing was removed." in notice

    notice, table, dropdown, yes, cancel = web.remove_document("docs/ferry.txt")
    assert "Removed ferry.txt." in notice and "No documents are indexed yet." in table
    assert dropdown.choices == [] and not yes.visible and not cancel.visible

    notice, *_ = web.remove_document("docs/ferry.txt")
    assert "ferry.txt is not in the index." in notice


def test_evaluation_refuses_a_file_that_is_no_question_set(web: WebChat, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not questions\n", encoding="utf-8")
    html, records = web.run_evaluation(str(notes), "extractive")
    assert 'role="alert"' in html and "notes.txt: a question set is a .jsonl file" in html and records is None
