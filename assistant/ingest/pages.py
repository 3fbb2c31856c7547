"""A PDF's pages (the text layer read by position, scanned pages by OCR) and image files, as
paragraphs with their page numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SkipFile
from . import quiet_loggers
from .ocr import OCR_DPI, Ocr
from .pdf_layout import Glyph, PageText, ocr_pages_text, pages_text

#: A page with fewer letters than this in its text layer, and an image on it, is a scan.
SCANNED_PAGE_LETTERS = 20

def read_pdf(path: Path, ocr: Ocr) -> list[PageText]:
    """A PDF's pages as paragraphs: the text layer read by position (:mod:`.pdf_layout`), scanned pages by OCR.

    pdfminer.six gives every glyph with its position, which reading order needs; pypdf gives text
    without positions (the words of an Arabic line reversed) and PDFium's text mixes both orders
    (measured in docs/ingest.md). PDFium (pypdfium2) renders the scanned pages for OCR.
    """
    from pdfminer.layout import LTChar, LTImage
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    pages: list[list[Glyph]] = []
    scanned: list[int] = []
    height = 792.0
    quiet = quiet_loggers("pdfminer", "pypdfium2")
    try:
        with open(path, "rb") as file:
            try:
                document = PDFDocument(PDFParser(file))
            except (PDFPasswordIncorrect, PDFEncryptionError):
                raise SkipFile("encrypted PDF (it needs a password); save an unprotected copy or "
                               "export it as text") from None
            from tqdm.auto import tqdm

            # a long PDF takes minutes (pdfminer reads Arabic pages slowly): shown after 2 s
            layouts = tqdm(_layouts(document, PDFPage), unit="page", desc=f"Reading {ocr.name}",
                           disable=not ocr.progress, delay=2.0)
            for number, layout in enumerate(layouts, start=1):
                glyphs, has_image = [], False
                for item in _walk(layout):
                    if isinstance(item, LTChar) and not item.get_text().isspace():  # gaps give the spaces
                        glyphs.append(Glyph(item.get_text(), item.x0, item.x1, item.matrix[5], item.size))
                    elif isinstance(item, LTImage):
                        has_image = True
                height = layout.height or height
                letters = sum(1 for g in glyphs for ch in g.text if ch.isalnum())
                if letters < SCANNED_PAGE_LETTERS and has_image:
                    scanned.append(number - 1)
                pages.append(glyphs)
    except SkipFile:
        raise
    except Exception as error:  # pdfminer raises many types for broken or truncated files
        raise SkipFile(f"damaged or truncated PDF ({type(error).__name__}: {error}); "
                       "re-save it or print it to a new PDF") from None
    finally:
        quiet()
    if not pages:
        raise SkipFile("PDF without pages; re-save it or print it to a new PDF")
    if not scanned and not any(g.text.strip() for glyphs in pages for g in glyphs):
        raise SkipFile("PDF without text: no text layer and no scanned image on its pages")
    texts = pages_text([[] if i in scanned else g for i, g in enumerate(pages)], height)
    if scanned:
        read = ocr.read(_pdf_page_images(path, scanned), len(scanned),
                        what=f"{len(scanned)} of its {len(pages)} pages are scanned images")
        for index, page in zip(scanned, ocr_pages_text(read), strict=True):
            texts[index] = page
    return texts


def _layouts(document: object, page_class: type) -> Iterator[Any]:
    """Each page of a pdfminer document with its laid-out content (pdfminer's own analysis left out:
    the glyphs are grouped by :mod:`.pdf_layout`)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager

    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    for page in page_class.create_pages(document):  # type: ignore[attr-defined]
        interpreter.process_page(page)
        yield device.get_result()


def _walk(item: Any) -> Iterator[Any]:
    yield item
    if hasattr(item, "__iter__"):
        for child in item:
            yield from _walk(child)


def _pdf_page_images(path: Path, indexes: list[int]) -> Iterator[Any]:
    """The given pages rendered at :data:`OCR_DPI`, one at a time (memory stays flat on long scans)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        for index in indexes:
            page = document[index]
            yield page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
            page.close()
    finally:
        document.close()


def read_image(path: Path, ocr: Ocr) -> list[PageText]:
    """An image (each frame of a multi-page TIFF a page), read by OCR."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise SkipFile(f"damaged or unreadable image ({error}); re-save it as PNG or JPEG") from None

    def frames_of() -> Iterator[Any]:
        with Image.open(path) as image:
            for frame in range(frames):
                image.seek(frame)
                yield image.convert("L")

    pages = ocr_pages_text(ocr.read(frames_of(), frames, what="an image"))
    if not any(page.paragraphs for page in pages):
        raise SkipFile("no text found in the image (OCR read none)")
    return pages
