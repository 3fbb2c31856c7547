"""Files uploaded to the web chat: stored by content under the index, listed by a safe name."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from .. import AssistantError
from ..ingest.loaders import SUPPORTED_SUFFIXES, safe_file_name

#: Largest upload accepted through the page, in MB (the index itself allows ``Settings.max_file_mb``).
UPLOAD_MAX_MB = 20.0
#: File types the loaders read; anything else is refused before it is stored.
ACCEPTED_TYPES = SUPPORTED_SUFFIXES
#: Hex digits of an upload's sha256 naming its folder (64 bits: collisions are not a concern).
UPLOAD_HASH_CHARS = 16


class UploadRefused(AssistantError):
    """An uploaded file was not stored; the message says why and what is accepted."""


def store_upload(path: Path, uploads_dir: Path, max_mb: float = UPLOAD_MAX_MB, name: str = "") -> Path:
    """Copy an uploaded file to ``uploads_dir/<sha256 prefix>/<its name, made safe>``.

    Stored by content (the same bytes uploaded again are the same document), listed and cited by
    the name the user gave it (``name``, else the file's own). Nothing of the client's name reaches
    the path but its safe last component.

    Raises:
        UploadRefused: The type is not accepted or the file is larger than ``max_mb``.
    """
    shown = safe_file_name(name or path.name)
    suffix = path.suffix.lower()
    if suffix not in ACCEPTED_TYPES:
        raise UploadRefused(f"{shown}: {suffix or 'no extension'} files are not accepted; "
                            f"upload one of {', '.join(ACCEPTED_TYPES)}.")
    size = path.stat().st_size
    if size > max_mb * 1_000_000:
        raise UploadRefused(f"{shown}: {size / 1e6:.1f} MB is over the {max_mb:g} MB upload limit; "
                            "split the document or index it with `assistant index`.")
    data = path.read_bytes()
    folder = uploads_dir / hashlib.sha256(data).hexdigest()[:UPLOAD_HASH_CHARS]
    earlier = sorted(folder.glob("*")) if folder.is_dir() else []
    if earlier:
        return earlier[0]  # these bytes are stored already, under the name first given to them
    target = folder / f"{Path(shown).stem}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def remove_upload(source: str, uploads_dir: Path) -> None:
    """Delete the stored copy of an uploaded document (and its folder); other sources are left alone."""
    stored = Path(source)
    if stored.parent.parent.resolve() == uploads_dir.resolve():
        stored.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            stored.parent.rmdir()
    elif stored.parent.resolve() == uploads_dir.resolve():  # the flat <sha256>.<ext> layout of earlier versions
        stored.unlink(missing_ok=True)
