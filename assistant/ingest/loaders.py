"""Files -> Documents. The only module that reads corpus files.

Text encodings are detected here because Arabic files in the wild come as UTF-8, UTF-16 or
Windows-1256, and a wrong guess fills the index with mojibake that no later step can repair.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import SkipFile
from ..text.normalize import strip_invisible
from .ocr import OCR_DPI, Ocr, ocr_languages, tesseract_version
from .pages import read_image, read_pdf
from .pdf_layout import PageText
from .web_pages import html_to_text

#: Largest HTML file read: trafilatura's time and memory grow with the page (docs/ingest.md).
MAX_HTML_BYTES = 5_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", *IMAGE_SUFFIXES)


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
        return _kept(path, read_cache or default_read_cache(), lambda: _paged(read_pdf(path, ocr)))
    if suffix in IMAGE_SUFFIXES:
        return _kept(path, read_cache or default_read_cache(), lambda: _paged(read_image(path, ocr)))
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


#: Changes when the way PDFs and images are read changes (what was kept is then read again).
READ_VERSION = 4

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
    tesseract = f"{tesseract_version()}|{'+'.join(languages)}" if languages else "no tesseract"
    digest.update(f"|{READ_VERSION}|{OCR_DPI}|{tesseract}".encode())
    return digest.hexdigest()


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
