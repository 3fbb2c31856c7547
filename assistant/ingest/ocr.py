"""Scanned pages and images read by Tesseract (its Debian packages; the command line, so nothing
to build): which of its models are installed, the page's script first, then that language's model."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import SkipFile
from .pdf_layout import OcrLine, parse_tesseract_tsv

#: Pages without text that are read by OCR at this resolution (Tesseract reads best at about 300 dpi).
OCR_DPI = 300
#: Tesseract's language models used, where installed: Arabic and English.
OCR_LANGUAGES = ("ara", "eng")
INSTALL_OCR = ("install Tesseract to read scans: `apt-get install tesseract-ocr tesseract-ocr-ara` "
                "(or `make ocr`), then index again")



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
                           + INSTALL_OCR)
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
#: are. With these off, whole lines of the article's scanned pages, numbers in them, are no longer
#: missing (docs/measurements.md).
KEEP_NOISY_ROWS = ("-c", "textord_noise_rejwords=0", "-c", "textord_noise_rejrows=0")
#: Tesseract's script names (its orientation and script detection) -> its language models.
SCRIPT_LANGUAGE = {"Arabic": "ara", "Latin": "eng"}


def ocr_image(image: Any, languages: tuple[str, ...]) -> str:
    """One page image's words with their boxes (Tesseract's TSV), in logical order.

    The page's script is detected first (``--psm 0``, a fraction of a full read) and only that language's model
    reads it: the Arabic and English models together read Arabic worse than Arabic alone (Latin
    letters turn up inside Arabic words) and take twice as long (docs/ingest.md). Tesseract runs
    on one thread (``OMP_THREAD_LIMIT=1``): on two busy cores its OpenMP threads wait on each other
    and a page took many times as long (docs/ingest.md).
    """
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    png = buffer.getvalue()
    chosen = "+".join(languages)
    if len(languages) > 1:
        try:
            script = re.search(r"^Script: (\w+)", tesseract(png, "--psm", "0"), re.M)
        except OcrFailed:  # too little text to tell (or no osd model): read with all the models
            script = None
        if script and SCRIPT_LANGUAGE.get(script.group(1)) in languages:
            chosen = SCRIPT_LANGUAGE[script.group(1)]
    return tesseract(png, "-l", chosen, "--psm", "3", *KEEP_NOISY_ROWS, "tsv")


def tesseract(png: bytes, *args: str) -> str:
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


def tesseract_version() -> str:
    import subprocess

    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr).split("\n", 1)[0]
