"""The chat in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

Set ``ASSISTANT_SCREENSHOT=docs/screenshot.png`` to refresh the README screenshot; otherwise it
goes to the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AR_CONVERSATION = ("كم شخصاً قتل في الاشتباكات بحسب المرصد السوري؟", "وكم منهم مدنيون؟")  # conv-ar-04
EN_QUESTION = "How many people have been killed in total since the fighting began?"
XSS_DOC = (
    "# Zebra festival notes\n\nThree hundred musicians play at the zebra festival in Qarawa "
    '<script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> and tickets are sold at '
    "[buy here](javascript:window.__xss=3) or ${alert(4)} every spring.\n"
)

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing; install it with `apt-get install chromium` (make test does)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing; pip install -e '.[test]'")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DIALOGS: list[str] = []  # messages of any alert/confirm a page opened: injected script ran


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(assistant) -> tuple[object, str]:
    from assistant.ui.web import create_demo

    demo = create_demo(assistant)
    _, local_url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                                  quiet=True)
    return demo, local_url


@pytest.fixture(scope="module")
def served_bot(tmp_path_factory: pytest.TempPathFactory, settings_base, embedder, article_corpus):
    from assistant import Assistant

    settings = settings_base.replace(index_dir=tmp_path_factory.mktemp("browser-index"), corpus_dir=article_corpus)
    bot = Assistant(settings, embedder=embedder)
    bot.ensure_index()
    return bot


@pytest.fixture(scope="module")
def url(served_bot) -> Iterator[str]:
    demo, local_url = _serve(served_bot)
    yield local_url
    demo.close()


@pytest.fixture(scope="module")
def page(url: str):
    """One page for the module, like a reader's tab through the whole session."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        tab.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
        tab.goto(url)
        expect(tab.locator("#question textarea")).to_be_editable()
        yield tab
        browser.close()


_ANSWERED = """question => {
  const questions = document.querySelectorAll('#chat .question'), answers = document.querySelectorAll('#chat .answer');
  const asked = questions[questions.length - 1], reply = answers[answers.length - 1];
  return Boolean(asked && reply && asked.textContent.trim() === question && reply.classList.contains('done')
    && asked.compareDocumentPosition(reply) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


def _ask(page, question: str):
    """Type a question, send it, and return the locator of its finished answer."""
    box = page.locator("#question textarea")
    box.click()
    box.press_sequentially(question)
    box.press("Enter")
    page.wait_for_function(_ANSWERED, arg=question, timeout=60_000)
    return page.locator("#chat .answer.done").last


_FIRST_LINE_GAP = """answer => {
  const line = answer.querySelector('p'), range = document.createRange();
  range.selectNodeContents(line.firstChild);
  return Math.abs(line.getBoundingClientRect().right - range.getBoundingClientRect().right);
}"""


def _direction(locator) -> str:
    return str(locator.evaluate("element => getComputedStyle(element).direction"))


def test_arabic_conversation_is_rtl_and_citations_lead_to_their_highlighted_sentence(page, tmp_path: Path) -> None:
    box = page.locator("#question textarea")
    box.press_sequentially("ما اسم")
    assert _direction(box) == "rtl"  # the box follows what is typed
    box.fill("")

    for question in AR_CONVERSATION:
        answer = _ask(page, question)
        assert _direction(answer) == "rtl"
        assert answer.evaluate(_FIRST_LINE_GAP) < 8  # right-aligned: the text starts at the right edge

    cite = answer.locator("a.cite").first
    target = cite.get_attribute("href")
    assert target and target.startswith("#src-2-")
    cite.click()
    card = page.locator(f"{target}.active")
    expect(card).to_be_visible()
    expect(card.locator("mark")).to_be_in_viewport()
    assert _direction(card.locator(".passage")) == "rtl"

    shot = Path(os.environ.get("ASSISTANT_SCREENSHOT", tmp_path / "arabic-conversation.png"))
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_english_answer_is_ltr(page) -> None:
    answer = _ask(page, EN_QUESTION)
    assert _direction(answer) == "ltr"
    assert _direction(page.locator("#question textarea")) == "ltr"
    answer.locator("a.cite").first.hover()
    expect(page.locator(".source.active mark")).to_be_visible()


def test_another_tab_has_its_own_empty_conversation(page, url: str) -> None:
    other = page.context.new_page()
    other.goto(url)
    expect(other.locator("#question textarea")).to_be_editable()
    assert other.locator("#chat .question").count() == 0 and page.locator("#chat .question").count() >= 3
    other.close()


def test_uploaded_markup_is_shown_literally_and_never_runs(page, tmp_path: Path) -> None:
    document = tmp_path / "zebra.md"
    document.write_text(XSS_DOC, encoding="utf-8")
    page.get_by_role("tab", name="Documents · المستندات").click()
    page.locator("#upload input[type=file]").set_input_files(str(document))
    expect(page.locator("#upload-status")).to_contain_text("indexed", timeout=60_000)
    expect(page.locator("#documents")).to_contain_text("Zebra festival notes")
    page.get_by_role("tab", name="Chat · المحادثة").click()

    _ask(page, "How many musicians play at the zebra festival in Qarawa?")
    sources = page.locator("#sources")
    expect(sources).to_contain_text("<script>window.__xss = 1</script>")
    expect(sources).to_contain_text('<img src=x onerror="window.__xss = 2">')
    expect(sources).to_contain_text("[buy here](javascript:window.__xss=3) or ${alert(4)}")
    assert page.evaluate("window.__xss") is None
    assert DIALOGS == []
    assert page.locator("#sources script, #sources img, #chat .answer img, a[href^='javascript']").count() == 0


def test_stop_ends_the_stream(page, served_bot) -> None:
    """An LLM that takes 4 s to write its reply, stopped as soon as its draft shows: 8 s later the
    answer has still not finished (it would have, unstopped)."""
    from fake_servers import ScriptedLLM

    from assistant import Assistant

    llm = ScriptedLLM().slowly(0.25)
    llm.enqueue("In total, 136 people have been killed since the fighting began [1]. " * 2)  # 16 pieces
    slow = Assistant(served_bot.settings, embedder=served_bot.parts.embedder,
                     second_embedder=served_bot.parts.encoders.second, llm=llm)
    demo, local_url = _serve(slow)
    tab = page.context.new_page()
    try:
        tab.goto(local_url)
        box = tab.locator("#question textarea")
        box.fill(EN_QUESTION)
        box.press("Enter")
        expect(tab.locator("#chat .answer.draft")).to_be_visible(timeout=60_000)
        tab.locator("#stop").click()
        tab.wait_for_timeout(8_000)
        assert not tab.evaluate(_ANSWERED, EN_QUESTION)
        assert llm.pending == 0  # the LLM was asked: it is the stream that was stopped
    finally:
        tab.close()
        demo.close()
