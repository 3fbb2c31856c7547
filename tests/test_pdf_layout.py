"""Reading order of PDF pages from glyph positions (pure: glyphs made here, as pdfminer reports them)."""

from __future__ import annotations

from assistant.ingest.chunking import chunk_document
from assistant.ingest.loaders import Loaded, _paged, content_hash
from assistant.ingest.pdf_layout import (
    Glyph,
    OcrLine,
    PageText,
    arabic_punctuation,
    ocr_pages_text,
    pages_text,
    parse_tesseract_tsv,
    visual_to_logical,
)
from assistant.types import Document


def line(visual: str, y: float = 700.0, x: float = 72.0, size: float = 12.0, width: float = 6.0) -> list[Glyph]:
    """Glyphs drawn left to right as ``visual`` reads (each character one glyph, spaces as gaps)."""
    glyphs = []
    for ch in visual:
        if ch != " ":
            glyphs.append(Glyph(ch, x, x + width, y, size))
        x += width
    return glyphs


def test_an_arabic_line_printed_in_visual_order_reads_in_logical_order():
    # as pdfminer reads Chromium's print of the article's title: letters reversed, presentation forms
    assert visual_to_logical(line("مﻼﺴﺘﺳﻻا ﺾﻓﺮﻳ ﺔﻟوﺪﻟا ﻢﻴﻈﻨﺗو")) == "وتنظيم الدولة يرفض الاستسلام"


def test_lam_alef_ligature_folds_after_the_reversal():
    assert visual_to_logical(line("ﻻ")) == "لا"
    assert visual_to_logical(line("مﻼﺴﻟا")) == "السلام"


def test_numbers_and_latin_runs_keep_their_order_inside_arabic():
    assert visual_to_logical(line("اﺼﺨﺷ 136 ﻞﺘﻗ")) == "قتل 136 شخصا"
    assert visual_to_logical(line("لﺎﻗ 12/7/2026 ﻲﻓ")) == "في 12/7/2026 قال"
    # more Latin letters than Arabic: right to left because the page is
    assert visual_to_logical(line("نإ Human Rights Watch ﺖﻟﺎﻗ"), rtl_page=True) == "قالت Human Rights Watch إن"


def test_brackets_are_unmirrored():
    # an RTL "(قسد)" is drawn with the mirrored glyphs: "(" on the left, ")" on the right
    assert visual_to_logical(line("(ﺪﺴﻗ) تاﻮﻗ")) == "قوات (قسد)"


def test_left_to_right_lines_are_left_as_they_are():
    assert visual_to_logical(line("The Alouk station (SARC) pumped 1,200 m3")) == \
        "The Alouk station (SARC) pumped 1,200 m3"


def test_a_mark_stays_on_its_letter():
    # "مصوراً": the fathatan is drawn from about its alef's left edge, over the space before it
    glyphs = line("اﺭﻮﺼﻣ")
    alef = glyphs[0]
    glyphs.append(Glyph("\u064b", alef.x0 - 1.3, alef.x0 - 1.3, alef.y + 2.6, 12.0))
    assert visual_to_logical(glyphs) == "مصورا\u064b"


def _page(lines: list[str], header: str = "", number: str = "", top: float = 720.0) -> list[Glyph]:
    glyphs = line(header, y=770, size=8, width=4) if header else []
    for k, text in enumerate(lines):
        glyphs += line(text, y=top - 14 * k)
    return glyphs + (line(number, y=20, x=300) if number else [])


def test_running_headers_footers_and_page_numbers_are_left_out():
    pages = [_page(["First page body line one", "and its second line."], "Quarterly report 12/7/26", "1"),
             _page(["Second page body."], "Quarterly report 12/7/26", "2")]
    assert pages_text(pages, 792) == [PageText(["First page body line one and its second line."]),
                                      PageText(["Second page body."])]


def test_paragraphs_split_at_wider_gaps_and_run_on_across_pages():
    page_one = _page(["One first line", "one second line", "one third line."]) + \
        line("Two starts here and", y=720 - 14 * 2 - 30)
    page_two = _page(["goes on over the page."])
    assert pages_text([page_one, page_two], 792) == [
        PageText(["One first line one second line one third line.", "Two starts here and"]),
        PageText(["goes on over the page."], continues=True)]


def test_two_columns_of_an_arabic_page_read_right_column_first():
    right = ["ﻦﻤﻳﻷا دﻮﻤﻌﻟا لوأ"] * 6  # "أول العمود الأيمن" (first, the right column)
    left = ["ﺮﺴﻳﻷا دﻮﻤﻌﻟا ﻲﻧﺎﺛ"] * 6  # "ثاني العمود الأيسر"
    glyphs = []
    for k in range(6):
        glyphs += line(left[k], y=700 - 14 * k, x=40) + line(right[k], y=700 - 14 * k, x=330)
    [page] = pages_text([glyphs], 792)
    text = " ".join(page.paragraphs)
    assert text.index("أول العمود الأيمن") < text.index("ثاني العمود الأيسر")
    assert text.count("أول العمود الأيمن") == 6 and text.count("ثاني العمود الأيسر") == 6


def test_pages_give_each_chunk_its_page():
    loaded = _paged([PageText(["Title", "First page text."]), PageText(["runs on."], continues=True),
                     PageText(["Third page."])])
    assert loaded == Loaded("Title", "Title\nFirst page text. runs on.\nThird page.", (0, 23, 32))
    document = Document("r.pdf", loaded.title, loaded.text, content_hash(loaded.text), loaded.pages)
    assert [(c.text, c.page) for c in chunk_document(document)] == [
        ("Title", 1), ("First page text. runs on.", 1), ("Third page.", 3)]


TSV = "\t".join("level page_num block_num par_num line_num word_num left top width height conf text".split())


def _tsv(*words: tuple[int, int, int, int, int, str]) -> str:
    """Tesseract's TSV for a 1000 x 1000 page: ``(block, par, line, top, height, word)`` rows."""
    rows = [TSV, "1\t1\t0\t0\t0\t0\t0\t0\t1000\t1000\t-1\t"]
    rows += [f"5\t1\t{b}\t{p}\t{ln}\t1\t100\t{top}\t50\t{h}\t95\t{w}" for b, p, ln, top, h, w in words]
    return "\n".join(rows) + "\n"


def test_ocr_lines_become_paragraphs_without_the_running_header():
    page = parse_tesseract_tsv(_tsv((1, 1, 1, 20, 16, "12/7/26,"), (1, 1, 1, 20, 16, "6:10"), (1, 1, 1, 20, 16, "PM"),
                                    (2, 1, 1, 200, 25, "أول"), (2, 1, 1, 200, 25, "سطر"),
                                    (2, 1, 2, 230, 25, "ثاني"), (2, 1, 2, 230, 25, "سطر."),
                                    (2, 2, 1, 300, 25, "فقرة"), (2, 2, 1, 300, 25, "أخرى"),
                                    (3, 1, 1, 960, 25, "1/2")))
    assert page[0] == OcrLine(1001, 0.02, 0.036, "12/7/26, 6:10 PM")
    assert ocr_pages_text([page]) == [PageText(["أول سطر ثاني سطر.", "فقرة أخرى"])]
    footer = parse_tesseract_tsv(_tsv((1, 1, 1, 200, 25, "Body"), (1, 1, 1, 200, 25, "text."),
                                      (2, 1, 1, 960, 25, "file:///tmp/page.html"), (2, 1, 1, 960, 25, "1/1")))
    assert ocr_pages_text([footer]) == [PageText(["Body text."])]


def test_ocr_gives_arabic_commas_back():
    assert arabic_punctuation("قسد, أمس; لماذا? 1,200 people, then") == "قسد، أمس؛ لماذا؟ 1,200 people, then"


def test_citations_name_the_page_in_the_sources_panel_the_cli_and_json():
    import io

    from assistant.types import Answer, Chunk, Citation
    from assistant.ui.cli import _print_citations
    from assistant.ui.html import render_sources

    chunk = Chunk("c1", "report.pdf", "Report", 2, 40, 60, "The weir holds water.", page=3)
    answer = Answer("The weir holds water. [1]", True, "en", [Citation.of(1, chunk, 0.9)])
    assert "report.pdf · p. 3 · paragraph 2" in render_sources([("q", answer)])
    arabic = Answer("نص [1]", True, "ar", [Citation.of(1, chunk, 0.9)])
    assert "report.pdf · ص 3 · الفقرة 2" in render_sources([("س", arabic)])
    out = io.StringIO()
    _print_citations(answer, out)
    assert "[1] report.pdf p. 3 ¶2" in out.getvalue()
    assert answer.citations[0].to_dict()["page"] == 3
    text_only = Chunk("c2", "a.txt", "A", 1, 0, 5, "Text.")
    plain = Answer("Text. [1]", True, "en", [Citation.of(1, text_only, 1.0)])
    assert "a.txt · paragraph 1" in render_sources([("q", plain)])  # no page for a file without pages
