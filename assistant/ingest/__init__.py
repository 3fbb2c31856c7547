"""Files -> Documents -> Chunks. :mod:`.loaders` finds and reads files of every supported type
(encodings, Word files, what was read kept), with :mod:`.web_pages` (HTML), :mod:`.pages` (PDF pages and
images, in reading order by :mod:`.pdf_layout`) and :mod:`.ocr` (scans, by Tesseract); :mod:`.chunking`
makes chunks with exact offsets and ids derived from content; :mod:`.squad` reads SQuAD-format
files for evaluation and training."""

from __future__ import annotations

import logging
from collections.abc import Callable


def quiet_loggers(*names: str) -> Callable[[], None]:
    """Silence libraries' warnings about damaged files (the SkipFile says it once); returns the undo."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)

    def undo() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

    return undo
