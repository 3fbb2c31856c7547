"""Files -> Documents. The only module that reads corpus files.

Text encodings are detected here because Arabic files in the wild come as UTF-8, UTF-16 or
Windows-1256, and a wrong guess fills the index with mojibake that no later step can repair.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .text import strip_invisible

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


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


def load_text(path: Path, max_bytes: int) -> tuple[str, str]:
    """Read a file into ``(title, text)``.

    Raises:
        SkipFile: The file is empty, too large, binary, undecodable or an unreadable PDF.
    """
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file (0 bytes)")
    if size > max_bytes:
        raise SkipFile(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                       "(ASSISTANT_MAX_FILE_MB)")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = _read_pdf(path)
        title = ""
    else:
        text = decode_bytes(path.read_bytes())
        title = ""
        if suffix in (".html", ".htm"):
            title, text = html_to_text(text)
    text = strip_invisible(text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SkipFile("no text found in the file")
    if not title:
        first = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
        title = first.lstrip("#").strip()[:200]
    return title, text


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
    """Visible text of an HTML page, one block per line, scripts and navigation dropped."""
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


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    # pypdf logs "EOF marker not found" and the like for damaged files; the SkipFile says it once.
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise SkipFile("encrypted PDF (it needs a password); save an unprotected copy or export it as text")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SkipFile:
        raise
    except Exception as error:  # pypdf raises many types for broken or truncated files
        raise SkipFile(f"damaged or truncated PDF ({type(error).__name__}: {error}); "
                       "re-save it or export it as text") from None
    finally:
        pypdf_log.setLevel(level)
    text = "\n\n".join(pages)
    if not text.strip():
        raise SkipFile("PDF without a text layer (a scan?); run OCR on it or export it as text")
    return text


def _opens_without_password(reader: object) -> bool:
    """Owner-password-only PDFs open with the empty user password."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # AES without the cryptography package, or a broken encryption dictionary
        return False
