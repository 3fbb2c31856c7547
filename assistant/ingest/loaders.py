"""Files -> Documents. The only module that reads corpus files.

Text encodings are detected here because Arabic files in the wild come as UTF-8, UTF-16 or
Windows-1256, and a wrong guess fills the index with mojibake that no later step can repair.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text.normalize import strip_invisible
from .pdf_layout import Glyph, OcrLine, PageText, ocr_pages_text, pages_text, parse_tesseract_tsv

#: Largest HTML file read: finding the article in a 24 MB page took trafilatura 24 s and 1.2 GB.
MAX_HTML_BYTES = 5_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", *IMAGE_SUFFIXES)


class SkipFile(Exception):
    """A file cannot be indexed; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Candidate:
    """A file found for indexing, with the name it is known by in the index."""

    path: Path
    source: str


def find_files(paths: list[Path], corpus_dir: Path) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Expand files and folders into indexable files.

    Folders are walked recursively, hidden files and folders left out; symbolic links that lead
    outside the folder being walked (or nowhere) are not followed. Paths are normalised, so a
    ``corpus/a/../b.txt`` is known as ``b.txt``. Unsupported types and missing paths are returned
    as skipped, with the reason.

    Returns:
        The candidates, sorted by source name, and the skipped ``(path, reason)`` pairs.
    """
    found: dict[str, Candidate] = {}
    skipped: list[tuple[str, str]] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            skipped.append((str(path), "no such file or folder; check the path"))
            continue
        if path.is_dir():
            root = path.resolve()
            for file in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in file.relative_to(path).parts):
                    continue  # hidden files and folders (.git, editor swap files)
                if file.is_symlink():
                    try:
                        target = file.resolve(strict=True)
                    except (OSError, RuntimeError):  # dangling, or a loop
                        skipped.append((str(file), "broken or looping symbolic link; not followed"))
                        continue
                    if not _inside(target, root):
                        skipped.append((str(file), "symbolic link leading outside the folder; not followed"))
                        continue
                    if target.is_dir():
                        continue  # its files are reached through the folder it points to
                elif file.is_dir():
                    continue
                _add(file, corpus_dir, found, skipped)
        else:
            _add(path, corpus_dir, found, skipped)
    return sorted(found.values(), key=lambda c: c.source), skipped


def _add(file: Path, corpus_dir: Path, found: dict[str, Candidate], skipped: list[tuple[str, str]]) -> None:
    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
        skipped.append((str(file), f"unsupported file type {file.suffix or '(none)'!r}; "
                                   f"supported: {', '.join(SUPPORTED_SUFFIXES)}"))
        return
    source = source_name(file, corpus_dir)
    found[source] = Candidate(file, source)


def source_name(path: Path, corpus_dir: Path) -> str:
    """The name a file is known by: relative to the corpus folder when inside it."""
    resolved = Path(os.path.abspath(path))
    corpus = Path(os.path.abspath(corpus_dir))
    if _inside(resolved, corpus):
        return resolved.relative_to(corpus).as_posix()
    return resolved.as_posix()


#: Longest file-name stem kept from an upload (characters).
MAX_NAME_CHARS = 100
#: Characters other systems forbid in file names; replaced so a stored upload copies anywhere.
_NAME_UNSAFE = re.compile(r'[<>:"|?*]')


def safe_file_name(name: str, fallback: str = "document") -> str:
    """A file name as a user gave it (an upload's), made safe to store and to show.

    Only the last path component is kept (no ``../``), invisible characters go (controls, bidi
    overrides and isolates, zero-width marks: Unicode category C), leading dots and spaces go (no
    hidden files, no ``..``), and the stem is cut to ``MAX_NAME_CHARS``. A name with nothing left
    becomes ``fallback`` with its suffix. Written here: none of the installed packages does it, and
    ``werkzeug.secure_filename`` (not installed) folds names to ASCII, losing Arabic ones entirely.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(_NAME_UNSAFE.sub("_", name).split())
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem.strip(" .")[:MAX_NAME_CHARS].rstrip(" .")
    suffix = suffix.strip(" .").lower()
    return f"{stem or fallback}{'.' + suffix if suffix else ''}"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Loaded:
    """A file's text as read: its title, its text, and where each page starts in it.

    Attributes:
        title: The title the file gives (HTML ``<title>``, Word's document title) or its first line.
        text: The text, one paragraph per line.
        pages: Offsets in ``text`` where page 1, 2, ... start (PDFs and images); empty for files without pages.
    """

    title: str
    text: str
    pages: tuple[int, ...] = ()


def load_text(path: Path, max_bytes: int) -> tuple[str, str]:
    """``(title, text)`` of a file: :func:`load_file` without the pages."""
    loaded = load_file(path, max_bytes)
    return loaded.title, loaded.text


def load_file(path: Path, max_bytes: int, *, progress: bool = False, read_cache: Path | None = None) -> Loaded:
    """Read a file: text, Markdown, HTML, PDF, Word (``.docx``) or an image (read by OCR).

    Args:
        path: The file.
        max_bytes: The largest file read (``ASSISTANT_MAX_FILE_MB``).
        progress: Show a progress bar per page while OCR reads scanned pages.
        read_cache: Where what was read from PDFs and images is kept by file content (default:
            ``$XDG_CACHE_HOME/assistant/read``): the chat checks every corpus file at start, and an
            unchanged 500-page PDF or scan then costs a hash, not minutes of layout analysis or OCR.

    Raises:
        SkipFile: The file is empty, too large, binary, undecodable, damaged, encrypted, has no
            text, or needs OCR where Tesseract is not installed; the message says which and what to do.
    """
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file (0 bytes)")
    if size > max_bytes:
        raise SkipFile(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                       "(ASSISTANT_MAX_FILE_MB)")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm") and size > MAX_HTML_BYTES:
        raise SkipFile(f"web page is {size / 1e6:.1f} MB, over the {MAX_HTML_BYTES / 1e6:.0f} MB read for HTML "
                       "(a saved article is well under 1 MB; this is an archive or a data dump); save the "
                       "article alone, or print it to PDF")
    ocr = Ocr(progress, path.name)
    if suffix == ".pdf":
        return _kept(path, read_cache or default_read_cache(), lambda: _paged(_read_pdf(path, ocr)))
    if suffix in IMAGE_SUFFIXES:
        return _kept(path, read_cache or default_read_cache(), lambda: _paged(_read_image(path, ocr)))
    title = ""
    if suffix == ".docx":
        title, text = _read_docx(path)
    else:
        text = decode_bytes(path.read_bytes())
        if suffix in (".html", ".htm"):
            title, text = html_to_text(text)
    text = strip_invisible(text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SkipFile("no text found in the file")
    return Loaded(title or _first_line(text, path.stem), text)


def _kept(path: Path, cache: Path, read: Callable[[], Loaded]) -> Loaded:
    """What ``read`` gives for this file, kept in ``cache`` by the file's content and the way it is read."""
    kept = cache / f"{_read_key(path)}.json"
    try:
        data = json.loads(kept.read_text(encoding="utf-8"))
        return Loaded(data["title"], data["text"], tuple(data["pages"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    loaded = read()  # a SkipFile is not kept: installing Tesseract, say, changes it
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _write_atomically(kept, json.dumps({"title": loaded.title, "text": loaded.text, "pages": loaded.pages},
                                           ensure_ascii=False))
    except OSError:
        pass  # no cache: the next check reads the file again
    return loaded


def _first_line(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), fallback)
    return first.lstrip("#").strip()[:200]


def _paged(pages: list[PageText]) -> Loaded:
    """Pages of paragraphs -> one text, one paragraph per line, and the offset where each page starts.

    A paragraph that runs on from one page to the next stays one line; its next page starts
    where the page's part of it does.
    """
    text = ""
    starts = []
    for page in pages:
        paragraphs = [" ".join(strip_invisible(p).split()) for p in page.paragraphs]
        paragraphs = [p for p in paragraphs if p]
        if paragraphs and text:
            text += " " if page.continues else "\n"
        starts.append(len(text))
        text += "\n".join(paragraphs)
    if not text.strip():
        raise SkipFile("no text found in the file")
    return Loaded(_first_line(text, ""), text, tuple(starts))


def content_hash(text: str) -> str:
    """SHA-256 of the text, the document's identity in the index."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_ARABIC = re.compile(r"[\u0621-\u064a]")
_LETTER = re.compile(r"[^\W\d_]")


def decode_bytes(data: bytes) -> str:
    """Decode text bytes: BOMs, UTF-8, UTF-16 without BOM, then Windows-1256 for Arabic.

    Raises:
        SkipFile: The bytes are not text in any of those encodings.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding, errors="strict"))
    if b"\x00" in data:
        for encoding in ("utf-16-le", "utf-16-be"):
            text = _try(data, encoding)
            if text and _printable_share(text) > 0.95:
                return _checked(text)
        raise SkipFile("binary file (contains NUL bytes), not text; convert it to UTF-8 text or PDF")
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    cp1256 = data.decode("cp1256", errors="replace")
    letters = _LETTER.findall(cp1256)
    if "\ufffd" not in cp1256 and letters and len(_ARABIC.findall(cp1256)) >= 0.3 * len(letters):
        return _checked(cp1256)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SkipFile("not UTF-8, UTF-16 or Windows-1256 text; save the file as UTF-8")
    return _checked(str(best))


def _try(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return ""


def _printable_share(text: str) -> float:
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return good / len(text)


def _checked(text: str) -> str:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 100):
        raise SkipFile("binary content (many control characters), not text; convert it to UTF-8 text")
    return text


_DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "form")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "header", "blockquote", "pre", "td", "th", "dt", "dd", "figcaption", "main", "aside")


def html_to_text(html: str) -> tuple[str, str]:
    """The title and article text of a web page, one block per line.

    trafilatura finds the article in a page saved from a news site and leaves out its menus,
    "related" lists, share buttons, comments and footer (on our news-page test: character
    similarity to the article against the visible text's: docs/ingest.md). ``favor_precision``:
    without it a short page keeps its menu and splits a paragraph at its bold words. A page it
    finds no article in (a short note, a list) keeps its visible text.
    """
    import trafilatura

    quiet = _quiet("trafilatura", "htmldate", "courlan")
    try:
        found = trafilatura.bare_extraction(html, include_comments=False, include_tables=True, with_metadata=True,
                                            favor_precision=True)
    except Exception:  # a page it cannot parse: the visible text below
        found = None
    finally:
        quiet()
    text = getattr(found, "text", None) or ""
    if text.strip():
        title = " ".join((getattr(found, "title", None) or "").split())
        lines = [" ".join(line.split()) for line in text.splitlines()]
        text = "\n".join(line for line in lines if line)
        if title and not text.startswith(title):
            text = f"{title}\n{text}"
        return title, text
    return visible_text(html)


def visible_text(html: str) -> tuple[str, str]:
    """Title and visible text of an HTML page, one block per line, scripts and navigation dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(_DROPPED_TAGS)):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    for tag in soup(list(_BLOCK_TAGS)):
        tag.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    text = "\n".join(line for line in lines if line)
    if title and not text.startswith(title):
        text = f"{title}\n{text}"
    return title, text


#: Pages without text that are read by OCR at this resolution (Tesseract reads best at about 300 dpi).
OCR_DPI = 300
#: Tesseract's language models used, where installed: Arabic and English.
OCR_LANGUAGES = ("ara", "eng")
#: A page with fewer letters than this in its text layer, and an image on it, is a scan.
SCANNED_PAGE_LETTERS = 20
#: Changes when the way PDFs and images are read changes (what was kept is then read again).
READ_VERSION = 4
_INSTALL_OCR = ("install Tesseract to read scans: `apt-get install tesseract-ocr tesseract-ocr-ara` "
                "(or `make ocr`), then index again")


def _read_pdf(path: Path, ocr: Ocr) -> list[PageText]:
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
    quiet = _quiet("pdfminer", "pypdfium2")
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


def _read_image(path: Path, ocr: Ocr) -> list[PageText]:
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


@dataclass(frozen=True)
class Ocr:
    """Tesseract over page images, a progress bar per page named after the file when ``progress``."""

    progress: bool
    name: str

    def read(self, images: Iterable[Any], count: int, what: str) -> list[list[OcrLine]]:
        """Each image's lines as Tesseract reads them, one list per image.

        Raises:
            SkipFile: Tesseract or its Arabic and English models are missing (the message says how
                to install them), or it failed on a page.
        """
        languages = ocr_languages()
        if not languages:
            raise SkipFile(f"{what}, and Tesseract with its Arabic or English model is not installed; "
                           + _INSTALL_OCR)
        from tqdm.auto import tqdm

        pages: list[list[OcrLine]] = []
        bar = tqdm(total=count, unit="page", desc=f"OCR {self.name}", disable=not self.progress)
        try:
            for image in images:
                pages.append(parse_tesseract_tsv(ocr_image(image, languages)))
                bar.update(1)
        except OcrFailed as error:
            raise SkipFile(f"OCR failed on page {len(pages) + 1}: {error}") from None
        finally:
            bar.close()
        return pages


class OcrFailed(Exception):
    """Tesseract exited with an error; the message is its own."""


#: Tesseract drops rows and words it takes for noise: many small blobs, as Arabic's dots and harakat
#: are. With these off, the article's two scanned pages read at 0.984 and 0.964 instead of 0.976 and
#: 0.916 (whole lines were missing, numbers in them).
_KEEP_NOISY_ROWS = ("-c", "textord_noise_rejwords=0", "-c", "textord_noise_rejrows=0")
#: Tesseract's script names (its orientation and script detection) -> its language models.
_SCRIPT_LANGUAGE = {"Arabic": "ara", "Latin": "eng"}


def ocr_image(image: Any, languages: tuple[str, ...]) -> str:
    """One page image's words with their boxes (Tesseract's TSV), in logical order.

    The page's script is detected first (``--psm 0``, a fraction of a full read) and only that language's model
    reads it: the Arabic and English models together read Arabic worse than Arabic alone (Latin
    letters turn up inside Arabic words) and take twice as long (docs/ingest.md). Tesseract runs
    on one thread (``OMP_THREAD_LIMIT=1``): on two busy cores its OpenMP threads wait on each other
    and a page took 56 s instead of 4.
    """
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    png = buffer.getvalue()
    chosen = "+".join(languages)
    if len(languages) > 1:
        try:
            script = re.search(r"^Script: (\w+)", _tesseract(png, "--psm", "0"), re.M)
        except OcrFailed:  # too little text to tell (or no osd model): read with all the models
            script = None
        if script and _SCRIPT_LANGUAGE.get(script.group(1)) in languages:
            chosen = _SCRIPT_LANGUAGE[script.group(1)]
    return _tesseract(png, "-l", chosen, "--psm", "3", *_KEEP_NOISY_ROWS, "tsv")


def _tesseract(png: bytes, *args: str) -> str:
    import subprocess

    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", "stdin", "stdout", *args], input=png, capture_output=True, env=env,
                          timeout=600)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrFailed(lines[-1] if lines else f"tesseract exited with status {done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def ocr_languages() -> tuple[str, ...]:
    """The Tesseract models of :data:`OCR_LANGUAGES` installed; empty without Tesseract."""
    import subprocess

    if shutil.which("tesseract") is None:
        return ()
    try:
        listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    installed = set(listed.split())
    return tuple(lang for lang in OCR_LANGUAGES if lang in installed)


def default_read_cache() -> Path:
    """``$XDG_CACHE_HOME/assistant/read`` (``~/.cache/assistant/read``)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "assistant" / "read"


def _read_key(path: Path) -> str:
    """The file's content, this way of reading it, and the Tesseract that would read its scans."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    languages = ocr_languages()
    tesseract = f"{_tesseract_version()}|{'+'.join(languages)}" if languages else "no tesseract"
    digest.update(f"|{READ_VERSION}|{OCR_DPI}|{tesseract}".encode())
    return digest.hexdigest()


def _tesseract_version() -> str:
    import subprocess

    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr).split("\n", 1)[0]


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _read_docx(path: Path) -> tuple[str, str]:
    """A Word file's title and text: paragraphs, headings and table cells in document order.

    Word stores right-to-left text in logical order, so the runs need no reordering.
    """
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise SkipFile("damaged Word file, or not a .docx (an old .doc is not read); "
                       "open it in Word or LibreOffice and save it again as .docx") from None
    except Exception as error:  # lxml raises XMLSyntaxError for a damaged document.xml
        raise SkipFile(f"damaged Word file ({type(error).__name__}: {error}); "
                       "open it in Word or LibreOffice and save it again as .docx") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    lines.append(" | ".join(cells))
        else:
            text = " ".join(block.text.split())
            if text:
                lines.append(text)
    title = (document.core_properties.title or "").strip()
    return title, "\n".join(lines)


def _quiet(*names: str) -> Callable[[], None]:
    """Silence libraries' warnings about damaged files (the SkipFile says it once); returns the undo."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)

    def undo() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

    return undo
