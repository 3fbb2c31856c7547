"""Documents in every form (issue 26): how close each form's text comes to the source, how fast OCR
reads, and whether the shipped questions are answered as well from each form as from the .txt.

The forms are made here, as tests/document_forms.py makes them for the tests: the article and an
English report printed to PDF by Chromium (one and two columns), those PDFs rendered at 300 dpi into
image-only "scanned" PDFs, Word files, and news pages with a site's menus, lists, comments and footer.

1. similarity: character similarity (difflib ratio, NFKC, whitespace folded) of each form's text to
   the source, with our loaders and, for comparison, with what the libraries give alone (pypdf,
   pdfminer, PDFium text; the page's visible text for HTML; both Tesseract models at once).
2. ocr: a ``--scan-pages`` scan read page by page with the progress bar, seconds per page and the
   process's resident memory sampled every 2 s (flat: one page image at a time); long-pdf: the same
   for a ``--pdf-pages`` Chromium-printed PDF.
3. answers: the shipped questions (assistant/data/questions.jsonl) asked against an index of one form
   of the article at a time; accuracy against the .txt's (the real embedders and reader, ~2 min a form).

    .venv/bin/python benchmarks/bench_ingest.py                        # all three (about 25 min on 2 cores)
    .venv/bin/python benchmarks/bench_ingest.py --only similarity      # a minute
    .venv/bin/python benchmarks/bench_ingest.py --only ocr --scan-pages 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the document forms are made as the tests make them

from document_forms import (  # noqa: E402
    SOURCE_TEXTS,
    article_paragraphs,
    docx_file,
    news_page_html,
    page_html,
    print_pdf,
    scan_pdf,
    similarity,
)

from assistant.ingest.loaders import load_file  # noqa: E402

MB = 1_000_000
TEXTS = SOURCE_TEXTS


def make_forms(folder: Path, with_scans: bool = True) -> dict[str, dict[str, Path]]:
    """lang -> form -> file."""
    forms: dict[str, dict[str, Path]] = {}
    for lang, text in TEXTS.items():
        paragraphs = article_paragraphs(text)
        made = forms[lang] = {"txt": folder / f"{lang}.txt"}
        made["txt"].write_text(text, encoding="utf-8")
        made["pdf"] = print_pdf(page_html(paragraphs, lang), folder / f"{lang}.pdf")
        made["pdf, 2 columns"] = print_pdf(page_html(paragraphs, lang, columns=2), folder / f"{lang}-2col.pdf")
        if with_scans:
            made["scanned pdf"] = scan_pdf(made["pdf"], folder / f"{lang}-scan.pdf")
        made["docx"] = docx_file(paragraphs, folder / f"{lang}.docx", rtl=lang == "ar")
        made["news html"] = folder / f"{lang}-news.html"
        made["news html"].write_text(news_page_html(paragraphs, lang), encoding="utf-8")
    return forms


def library_texts(path: Path) -> dict[str, str]:
    """What the libraries alone read from a file (the choices docs/ingest.md compares)."""
    suffix = path.suffix
    if suffix == ".pdf":
        import pypdf
        import pypdfium2
        from pdfminer.high_level import extract_text

        document = pypdfium2.PdfDocument(str(path))
        pdfium = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        document.close()
        return {"pypdf": "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages),
                "pdfminer text": extract_text(str(path)), "pdfium text": pdfium}
    if suffix == ".html":
        from assistant.ingest.web_pages import visible_text

        return {"visible text (before)": visible_text(path.read_text(encoding="utf-8"))[1]}
    return {}


def bench_similarity(forms: dict[str, dict[str, Path]], out: dict) -> None:
    rows = out.setdefault("similarity", {})
    for lang, made in forms.items():
        for form, path in made.items():
            started = time.perf_counter()
            text = load_file(path, 50 * MB, read_cache=Path(tempfile.mkdtemp())).text
            seconds = time.perf_counter() - started
            row = {"ours": round(similarity(text, TEXTS[lang]), 4), "seconds": round(seconds, 2)}
            for name, other in library_texts(path).items():
                row[name] = round(similarity(other, TEXTS[lang]), 4)
            rows[f"{lang} {form}"] = row
            print(f"{lang:2} {form:15} {json.dumps(row, ensure_ascii=False)}", flush=True)
    if "scanned pdf" in forms["ar"]:
        _both_models(forms["ar"]["pdf"], out)


def _both_models(pdf: Path, out: dict) -> None:
    """The article's first page read by Tesseract with the Arabic model alone and with both."""
    import pypdfium2

    from assistant.ingest.ocr import KEEP_NOISY_ROWS, tesseract
    from assistant.ingest.pdf_layout import ocr_pages_text, parse_tesseract_tsv

    text = load_file(pdf, 50 * MB)
    first = text.text[:text.pages[1]]
    document = pypdfium2.PdfDocument(str(pdf))
    image = document[0].render(scale=300 / 72, grayscale=True).to_pil()
    document.close()
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    rows = out.setdefault("ocr models, article page 1", {})
    for languages in ("ara", "ara+eng"):
        started = time.perf_counter()
        tsv = tesseract(buffer.getvalue(), "-l", languages, "--psm", "3", *KEEP_NOISY_ROWS, "tsv")
        read = " ".join(ocr_pages_text([parse_tesseract_tsv(tsv)])[0].paragraphs)
        rows[languages] = {"similarity": round(similarity(read, first), 4),
                           "seconds": round(time.perf_counter() - started, 2)}
        print(f"tesseract -l {languages}: {rows[languages]}", flush=True)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1000
    return 0.0


def bench_ocr(pdf: Path, pages: int, folder: Path, out: dict) -> None:
    """A ``pages``-page scan (the article's pages over and over) read with the progress bar shown."""
    from pypdf import PdfReader, PdfWriter

    one = scan_pdf(pdf, folder / "scan-once.pdf")
    per_copy = len(PdfReader(one).pages)
    writer = PdfWriter()
    while len(writer.pages) < pages:
        writer.append(str(one), pages=(0, min(per_copy, pages - len(writer.pages))))
    long_scan = folder / f"scan-{pages}.pdf"
    writer.write(long_scan)
    with RssSampler() as rss:
        started = time.perf_counter()
        loaded = load_file(long_scan, 500 * MB, progress=True, read_cache=folder / "ocr-cache")
        seconds = time.perf_counter() - started
    out["ocr"] = {"pages": len(loaded.pages), "file_mb": round(long_scan.stat().st_size / MB, 1),
                  "seconds": round(seconds, 1), "seconds_per_page": round(seconds / len(loaded.pages), 2),
                  **rss.figures()}
    started = time.perf_counter()
    load_file(long_scan, 500 * MB, read_cache=folder / "ocr-cache")
    out["ocr"]["seconds_again_from_cache"] = round(time.perf_counter() - started, 2)
    print(json.dumps(out["ocr"]), flush=True)


class RssSampler:
    """The process's resident memory, sampled every ``every`` seconds while in a ``with`` block."""

    def __init__(self, every: float = 2.0) -> None:
        self.every, self.samples, self._done = every, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.every):
            self.samples.append(_rss_mb())

    def __enter__(self) -> RssSampler:
        self.before = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def figures(self) -> dict:
        tenth = max(1, len(self.samples) // 10)
        if not self.samples:
            return {"rss_mb_before": round(self.before, 1)}
        return {"rss_mb_before": round(self.before, 1),
                "rss_mb_first_tenth": round(statistics.mean(self.samples[:tenth]), 1),
                "rss_mb_last_tenth": round(statistics.mean(self.samples[-tenth:]), 1),
                "rss_mb_peak": round(max(self.samples), 1)}


def bench_long_pdf(pages: int, folder: Path, out: dict) -> None:
    """A Chromium-printed PDF of about ``pages`` pages (the article over and over), read with the page bar."""
    from pypdf import PdfReader

    paragraphs = article_paragraphs(TEXTS["ar"])
    one = print_pdf(page_html(paragraphs, "ar"), folder / "one.pdf")
    copies = max(1, round(pages / len(PdfReader(one).pages)))
    long_pdf = print_pdf(page_html(paragraphs + paragraphs[1:] * (copies - 1), "ar"), folder / "long.pdf")
    with RssSampler() as rss:
        started = time.perf_counter()
        loaded = load_file(long_pdf, 500 * MB, progress=True)
        seconds = time.perf_counter() - started
    out["long pdf"] = {"pages": len(loaded.pages), "file_mb": round(long_pdf.stat().st_size / MB, 1),
                       "seconds": round(seconds, 1), "seconds_per_page": round(seconds / len(loaded.pages), 3),
                       **rss.figures()}
    print(json.dumps(out["long pdf"]), flush=True)


def bench_answers(forms: dict[str, Path], folder: Path, out: dict) -> None:
    """The shipped questions against an index of each form of the article alone."""
    from assistant import Assistant, Settings
    from assistant.eval.questions import load_questions
    from assistant.eval.scoring import summarize

    questions = load_questions(ROOT / "assistant" / "data" / "questions.jsonl")
    settings = Settings(progress=False)
    rows = out.setdefault("answers", {})
    embedder = index_embedder = None
    for form, path in forms.items():
        corpus = folder / f"corpus-{form.replace(' ', '-').replace(',', '')}"
        corpus.mkdir()
        (corpus / f"ghweiran-prison{path.suffix}").write_bytes(path.read_bytes())
        bot = Assistant(settings.replace(corpus_dir=corpus, index_dir=folder / f"index-{corpus.name}"),
                        embedder=embedder, index_embedder=index_embedder)
        embedder, index_embedder = bot.parts.embedder, bot.parts.index_embedder
        bot.index([corpus], progress=False)
        started = time.perf_counter()
        records = bot.answer_questions(questions, progress=False)
        summary = summarize(records)
        rows[form] = {key: summary.get(key) for key in ("accuracy", "f1", "refusal_accuracy", "citation_evidence_rate")}
        rows[form].update(questions=len(records), seconds=round(time.perf_counter() - started, 1))
        print(f"{form:15} {rows[form]}", flush=True)
    base = rows["txt"]["accuracy"]
    for row in rows.values():
        row["minus_txt"] = round(row["accuracy"] - base, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["similarity", "ocr", "long-pdf", "answers"], action="append",
                        help="run only these parts (repeatable); all by default")
    parser.add_argument("--scan-pages", type=int, default=100, help="pages of the long scan (default 100)")
    parser.add_argument("--pdf-pages", type=int, default=500, help="pages of the long PDF (default 500)")
    parser.add_argument("--out", type=Path, default=Path("bench-ingest.json"), help="the figures, as JSON")
    args = parser.parse_args()
    parts = args.only or ["similarity", "ocr", "long-pdf", "answers"]
    out: dict = {"date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        forms = make_forms(folder, with_scans="similarity" in parts or "answers" in parts)
        if "similarity" in parts:
            bench_similarity(forms, out)
        if "ocr" in parts:
            bench_ocr(forms["ar"]["pdf"], args.scan_pages, folder, out)
        if "long-pdf" in parts:
            bench_long_pdf(args.pdf_pages, folder, out)
        if "answers" in parts:
            bench_answers(forms["ar"], folder, out)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"figures in {args.out}")


if __name__ == "__main__":
    main()
