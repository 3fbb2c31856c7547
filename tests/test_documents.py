"""Every form a document arrives in (issue 26): Chromium-printed PDFs in one and two columns, scans,
images, Word files and saved news pages of the article and of an English report, each read back as
the source text; and bad files, each refused with one line naming the problem while the rest index.

The corpus is made by the tests (tests/document_forms.py): Chromium prints the PDFs (skipped, saying
so, where it is not installed), PDFium renders the scans, Tesseract reads them (skipped likewise).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from document_forms import (
    ARTICLE,
    ENGLISH_REPORT,
    SOURCE_TEXTS,
    article_paragraphs,
    chromium,
    docx_file,
    news_page_html,
    page_html,
    print_pdf,
    scan_pdf,
    similarity,
    text_pdf,
)

from assistant.errors import SkipFile
from assistant.ingest.loaders import load_file
from assistant.ingest.ocr import ocr_languages

MB = 1_000_000
TEXTS = SOURCE_TEXTS

needs_chromium = pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test installs it)")
needs_ocr = pytest.mark.skipif(set(ocr_languages()) != {"ara", "eng"},
                               reason="Tesseract with ara and eng is not installed (make ocr installs it)")


@pytest.fixture(autouse=True)
def _read_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # what was read kept per test, not in ~/.cache


@pytest.fixture(scope="session")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The article and the report printed by Chromium: ar.pdf, ar-2col.pdf, en.pdf."""
    if chromium() is None:
        pytest.skip("chromium is not installed (make test installs it)")
    folder = tmp_path_factory.mktemp("printed")
    for lang, text in TEXTS.items():
        print_pdf(page_html(article_paragraphs(text), lang), folder / f"{lang}.pdf")
    print_pdf(page_html(article_paragraphs(TEXTS["ar"]), "ar", columns=2), folder / "ar-2col.pdf")
    return folder


def _read(path: Path) -> str:
    return load_file(path, 50 * MB).text


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("name, lang", [("ar.pdf", "ar"), ("ar-2col.pdf", "ar"), ("en.pdf", "en")])
def test_chromium_printed_pdfs_read_as_their_source(printed: Path, name: str, lang: str):
    loaded = load_file(printed / name, 50 * MB)
    assert similarity(loaded.text, TEXTS[lang]) >= 0.98
    assert loaded.title == article_paragraphs(TEXTS[lang])[0]
    assert len(loaded.text.splitlines()) == len(article_paragraphs(TEXTS[lang]))  # one line per paragraph
    assert "file://" not in loaded.text and "PM" not in loaded.text  # Chromium's header and footer left out
    if lang == "ar":
        assert len(loaded.pages) >= 2 and loaded.pages[0] == 0


@pytest.mark.slow
@needs_chromium
@needs_ocr
def test_scanned_pages_are_read_by_ocr(printed: Path, tmp_path: Path):
    for lang in ("ar", "en"):
        scan = scan_pdf(printed / f"{lang}.pdf", tmp_path / f"{lang}-scan.pdf", pages=1)
        text_layer = load_file(printed / f"{lang}.pdf", 50 * MB)
        first_page = text_layer.text[:text_layer.pages[1]] if len(text_layer.pages) > 1 else text_layer.text
        loaded = load_file(scan, 50 * MB)
        assert loaded.pages == (0,)
        assert similarity(loaded.text, first_page) >= 0.93, lang


@pytest.mark.slow
@needs_chromium
@needs_ocr
def test_a_pdf_mixing_text_and_scanned_pages_reads_both(printed: Path, tmp_path: Path):
    from pypdf import PdfWriter

    scan = scan_pdf(printed / "en.pdf", tmp_path / "en-scan.pdf", pages=1)
    writer = PdfWriter()
    writer.append(str(printed / "ar.pdf"))
    writer.append(str(scan))
    writer.write(tmp_path / "mixed.pdf")
    loaded = load_file(tmp_path / "mixed.pdf", 50 * MB)
    pages = len(loaded.pages)
    assert pages >= 3 and similarity(loaded.text[loaded.pages[-1]:], ENGLISH_REPORT) >= 0.9
    assert similarity(loaded.text[:loaded.pages[-1]], TEXTS["ar"]) >= 0.98


@pytest.mark.slow
@needs_ocr
def test_an_image_is_read_by_ocr_and_an_empty_one_is_refused(tmp_path: Path):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=36)
    image = Image.new("L", (1600, 400), 255)
    ImageDraw.Draw(image).text((40, 40), "The Alouk station stopped\npumping for 23 days.", fill=0, font=font)
    image.save(tmp_path / "note.png")
    assert similarity(_read(tmp_path / "note.png"), "The Alouk station stopped pumping for 23 days.") >= 0.95
    Image.new("L", (800, 600), 255).save(tmp_path / "blank.jpg")
    with pytest.raises(SkipFile, match="no text found in the image"):
        load_file(tmp_path / "blank.jpg", 50 * MB)


def test_without_tesseract_a_scan_is_skipped_with_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from PIL import Image

    Image.new("L", (200, 100), 255).save(tmp_path / "page.png")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    with pytest.raises(SkipFile) as refused:
        load_file(tmp_path / "page.png", 50 * MB)
    assert "apt-get install tesseract-ocr tesseract-ocr-ara" in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_word_files_read_as_their_source(tmp_path: Path, lang: str):
    paragraphs = article_paragraphs(TEXTS[lang])
    loaded = load_file(docx_file(paragraphs, tmp_path / f"{lang}.docx", rtl=lang == "ar"), 50 * MB)
    assert similarity(loaded.text, TEXTS[lang]) >= 0.99
    assert loaded.title == paragraphs[0] and loaded.pages == ()
    assert loaded.text.splitlines() == [" ".join(p.split()) for p in paragraphs]  # no-break spaces folded


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_saved_news_page_keeps_the_article_only(tmp_path: Path, lang: str):
    page = tmp_path / f"{lang}.html"
    page.write_text(news_page_html(article_paragraphs(TEXTS[lang]), lang), encoding="utf-8")
    loaded = load_file(page, 50 * MB)
    assert similarity(loaded.text, TEXTS[lang]) >= 0.99
    assert loaded.title == article_paragraphs(TEXTS[lang])[0]  # without the site's name
    chrome = ("Subscribe", "Related", "Great article", "rights reserved", "التعليقات", "مقال ممتاز", "جميع الحقوق")
    for words in chrome:
        assert words not in loaded.text


@pytest.mark.parametrize("name, content, problem", [
    ("encrypted.pdf", lambda: text_pdf(["Locked."], password="s3cret"), "encrypted PDF (it needs a password)"),
    ("truncated.pdf", lambda: text_pdf(["Cut short.", "Second."])[:200], "damaged or truncated PDF"),
    ("corrupt.docx", lambda: b"PK\x03\x04 not really a zip", "damaged Word file"),
    ("blank.pdf", lambda: text_pdf(["", ""]), "PDF without text"),
])
def test_bad_files_get_one_line_naming_the_problem(tmp_path: Path, name: str, content, problem: str):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(SkipFile) as refused:
        load_file(path, 50 * MB)
    assert str(refused.value).startswith(problem) and "\n" not in str(refused.value)


def test_a_20_mb_web_page_is_refused_without_reading_it(tmp_path: Path):
    page = tmp_path / "archive.html"
    with page.open("wb") as file:
        file.truncate(20 * MB)  # sparse: its size alone refuses it
    with pytest.raises(SkipFile, match=r"web page is 20.0 MB, over the 5 MB read for HTML"):
        load_file(page, 50 * MB)


def test_a_broken_cross_reference_table_is_rebuilt(tmp_path: Path):
    pdf = text_pdf(["The Derik mill grinds 40 tonnes a day.", "Second page."])
    start = pdf.rindex(b"startxref")
    broken = pdf[:start] + b"startxref\n999999\n%%EOF\n"  # points nowhere: the table is found by scanning
    (tmp_path / "broken-xref.pdf").write_bytes(broken)
    loaded = load_file(tmp_path / "broken-xref.pdf", 50 * MB)
    assert loaded.text == "The Derik mill grinds 40 tonnes a day.\nSecond page." and loaded.pages == (0, 39)


def test_what_was_read_from_a_pdf_is_kept_by_its_content(tmp_path: Path):
    pdf, kept = tmp_path / "a.pdf", tmp_path / "kept"
    pdf.write_bytes(text_pdf(["The first version."]))
    first = load_file(pdf, 50 * MB, read_cache=kept)
    assert len(list(kept.glob("*.json"))) == 1 and load_file(pdf, 50 * MB, read_cache=kept) == first
    pdf.write_bytes(text_pdf(["The second version."]))
    assert load_file(pdf, 50 * MB, read_cache=kept).text == "The second version."


@pytest.mark.slow
def test_a_500_page_pdf_is_read_page_by_page(tmp_path: Path):
    goods = ["wheat", "barley", "lentils", "cotton", "olive oil", "rice", "sugar"]
    lines = [f"Entry {n}: {goods[n % 7]} for {goods[n * 3 % 7]}, {n * 3} sacks in all." for n in range(1, 501)]
    (tmp_path / "ledger.pdf").write_bytes(text_pdf(lines))
    loaded = load_file(tmp_path / "ledger.pdf", 50 * MB)
    assert len(loaded.pages) == 500 and loaded.text.splitlines()[499] == lines[499]


@pytest.mark.slow
@needs_chromium
def test_bad_files_are_named_and_the_rest_indexed_with_pages_cited(printed: Path, fresh_bot, tmp_path: Path):
    corpus = fresh_bot.settings.corpus_dir
    shutil.copy(ARTICLE, corpus / "earlier.txt")
    assert fresh_bot.index().added == ["earlier.txt"]
    shutil.copy(printed / "ar.pdf", corpus / "report.pdf")
    (corpus / "report.docx").write_bytes(docx_file(article_paragraphs(ENGLISH_REPORT), tmp_path / "r.docx",
                                                   rtl=False).read_bytes())
    (corpus / "encrypted.pdf").write_bytes(text_pdf(["Locked."], password="s3cret"))
    (corpus / "corrupt.docx").write_bytes(b"PK\x03\x04 broken")
    with (corpus / "archive.html").open("wb") as file:
        file.truncate(20 * MB)
    report = fresh_bot.index()
    assert sorted(report.added) == ["report.docx", "report.pdf"] and report.unchanged == ["earlier.txt"]
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert set(reasons) == {"encrypted.pdf", "corrupt.docx", "archive.html"}
    pages = {chunk.page for chunk, _ in fresh_bot.parts.store.iter_chunks() if chunk.source == "report.pdf"}
    assert pages >= {1, 2}
    answer = fresh_bot.ask("كم عدد القتلى الإجمالي في الاشتباكات حسب المرصد السوري؟")
    cited = [c for c in answer.citations if c.source == "report.pdf"]
    assert all(c.page >= 1 for c in cited) and all(c.page == 0 for c in answer.citations if c.source == "earlier.txt")
