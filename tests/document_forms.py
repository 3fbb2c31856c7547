"""The test corpus of issue 26, made here: one text in each form a user brings (Chromium-printed PDF
in one and two columns, scanned PDF, DOCX, an HTML page wrapped in a news site's chrome, an image).

Shared by tests/test_documents.py and benchmarks/bench_ingest.py. Chromium (the Debian package the
Makefile installs for the browser test) prints the PDFs; PDFium renders the scans.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "ghweiran-prison.txt"

#: An English report, a few paragraphs with numbers, names and a parenthesis, as a user might index.
ENGLISH_REPORT = """Water Supply in Hasakah: Quarterly Report
The Alouk water station, which serves about 460,000 people in Hasakah city and the surrounding camps, \
stopped pumping for 23 days between July and September after repeated power cuts.
Engineers from the Syrian Arab Red Crescent (SARC) repaired two of the six pumps in August; the other four \
still need spare parts that must be imported through the Semalka crossing.
During the outage, trucks delivered 1,200 cubic metres of water a day to the Al-Hol camp, less than half of \
the 2,700 cubic metres that residents needed according to the camp administration.
The report recommends building a second pipeline from the Hasakah dam and storing at least ten days of \
fuel for the station's generators before the summer of next year.
"""

#: The text each form is made from and compared with, by language.
SOURCE_TEXTS = {"ar": ARTICLE.read_text(encoding="utf-8"), "en": ENGLISH_REPORT}



def article_paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def page_html(paragraphs: list[str], lang: str, columns: int = 1) -> str:
    """A plain page: the title as a heading, then the paragraphs."""
    direction = "rtl" if lang == "ar" else "ltr"
    style = f"body{{column-count:{columns}}}" if columns > 1 else ""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    return (f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{html.escape(paragraphs[0])}</title><style>{style}</style></head>"
            f"<body><h1>{html.escape(paragraphs[0])}</h1>{body}</body></html>")


def news_page_html(paragraphs: list[str], lang: str) -> str:
    """The article as a news site serves it: menus, breadcrumbs, share buttons, a "related" list,
    a newsletter box, comments and a footer around it."""
    direction = "rtl" if lang == "ar" else "ltr"
    ar = lang == "ar"
    menu = ["الرئيسية", "أخبار", "سياسة", "اقتصاد", "رياضة", "منوعات"] if ar else \
        ["Home", "News", "Politics", "Economy", "Sport", "Culture"]
    related = ["مقتل ثلاثة مدنيين بقصف على ريف إدلب", "ارتفاع أسعار الخبز في دمشق للمرة الثانية",
               "افتتاح معبر جديد بين تركيا وسوريا"] if ar else \
        ["Three civilians killed in shelling near Idlib", "Bread prices rise again in Damascus",
         "A new crossing opens between Turkey and Syria"]
    words = {"related": "ذات صلة" if ar else "Related", "share": "شارك" if ar else "Share",
             "comments": "التعليقات" if ar else "Comments", "newsletter": "اشترك في النشرة البريدية" if ar else
             "Subscribe to our newsletter", "rights": "جميع الحقوق محفوظة © 2024" if ar else
             "All rights reserved © 2024", "comment": "مقال ممتاز، شكراً للكاتب" if ar else
             "Great article, thanks to the author", "date": "نشر في 24 كانون الثاني 2022" if ar else
             "Published 24 January 2022"}
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    return f"""<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">
<title>{html.escape(paragraphs[0])} | {"وكالة المجس" if ar else "The Sounding Agency"}</title>
<meta property="og:title" content="{html.escape(paragraphs[0])}">
<script>window.dataLayer=[];function track(){{}}</script><style>.menu li{{display:inline}}</style></head>
<body><header class="site-header"><div class="logo">{"وكالة المجس" if ar else "The Sounding Agency"}</div>
<nav><ul class="menu">{"".join(f'<li><a href="/{i}">{m}</a></li>' for i, m in enumerate(menu))}</ul></nav>
<div class="breadcrumb"><a href="/">{menu[0]}</a> › <a href="/news">{menu[1]}</a></div></header>
<main><article class="post"><h1 class="entry-title">{html.escape(paragraphs[0])}</h1>
<div class="meta"><time datetime="2022-01-24">{words["date"]}</time></div>
<div class="share"><a href="#">{words["share"]}</a> <a href="#">Facebook</a> <a href="#">Twitter</a></div>
<div class="entry-content">{body}</div></article>
<aside class="related"><h3>{words["related"]}</h3><ul>{"".join(f'<li><a href="/r{i}">{r}</a></li>'
                                                              for i, r in enumerate(related))}</ul></aside>
<div class="newsletter"><form><label>{words["newsletter"]}</label><input type="email"></form></div>
<section id="comments" class="comments"><h3>{words["comments"]}</h3>
<div class="comment"><p>{words["comment"]}</p></div></section></main>
<footer class="site-footer"><ul>{"".join(f'<li><a href="/{i}">{m}</a></li>' for i, m in enumerate(menu))}</ul>
<p>{words["rights"]}</p></footer></body></html>"""


def chromium() -> str | None:
    """The Chromium (or Chrome) command on this machine, if any."""
    return next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)


def print_pdf(page: str, out: Path) -> Path:
    """Print an HTML page to PDF with headless Chromium, as a user's browser would (header and footer on)."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("chromium is not installed (make test installs it: `apt-get install chromium`)")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "page.html"
        source.write_text(page, encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={folder}/profile",
                        f"--print-to-pdf={out}", source.as_uri()], check=True, capture_output=True, timeout=120)
    return out


def scan_pdf(pdf: Path, out: Path, dpi: int = 300, pages: int | None = None) -> Path:
    """A "scanned" copy of a PDF: each page rendered to a grey image and stored as an image-only PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    count = len(document) if pages is None else min(pages, len(document))
    images = [document[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(count)]
    document.close()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out


def docx_file(paragraphs: list[str], out: Path, rtl: bool) -> Path:
    """A Word file: the title as Word's Title and a heading, then the paragraphs (right-to-left when Arabic)."""
    import docx
    from docx.oxml.shared import OxmlElement

    document = docx.Document()
    document.core_properties.title = paragraphs[0]
    blocks = [document.add_heading(paragraphs[0], level=1)] + [document.add_paragraph(p) for p in paragraphs[1:]]
    if rtl:
        for block in blocks:
            block._p.get_or_add_pPr().append(OxmlElement("w:bidi"))
            for run in block.runs:
                run._r.get_or_add_rPr().append(OxmlElement("w:rtl"))
    document.save(str(out))
    return out


def similarity(got: str, expected: str) -> float:
    """Character similarity of two texts after NFKC and with whitespace folded (difflib's ratio): the
    measure of issue 26."""
    import difflib
    import unicodedata

    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split())

    return difflib.SequenceMatcher(None, fold(got), fold(expected), autojunk=False).ratio()


def text_pdf(lines: list[str], password: str = "", owner_password: str = "") -> bytes:
    """A real PDF with a text layer (Helvetica) on each page that has a line, optionally encrypted."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                                NameObject("/Subtype"): NameObject("/Type1"),
                                                NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for line in lines:
        page = writer.add_blank_page(612, 792)
        if not line:
            continue  # a page without text, as a scan has
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password or owner_password:
        writer.encrypt(user_password=password, owner_password=owner_password or password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
