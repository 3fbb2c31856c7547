"""Answers questions about documents in Arabic or English, every answer tied to its passages.

>>> from assistant import Assistant
>>> bot = Assistant()
>>> bot.ask("How many civilians were killed?").text  # doctest: +SKIP
"""

import os

# OpenMP's default wait policy keeps idle threads spinning. On two cores shared with other work
# (an upload being indexed, another process) that stalls torch: 40 questions under two CPU hogs
# measured ask p50/p95 176/566 ms, and 106/248 ms with PASSIVE; a quiet machine shows no difference
# (p50 34 vs 38 ms; 10.2 vs 9.9 paragraphs/s indexed). It must be set before torch loads, hence
# here; a value already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _moved  # noqa: E402
from .api import Assistant, DocumentInfo  # noqa: E402
from .chat import ChatSession
from .config import Settings
from .errors import (
    AssistantError,
    ConfigError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    InvalidQuestionError,
    ModelUnavailableError,
)
from .types import Answer, AnswerSpan, AnswerStream, Chunk, Citation, Document, Hit, IndexReport

__all__ = [
    "Answer",
    "AnswerSpan",
    "AnswerStream",
    "Assistant",
    "AssistantError",
    "ChatSession",
    "Chunk",
    "Citation",
    "ConfigError",
    "Document",
    "DocumentInfo",
    "Hit",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexReport",
    "InvalidQuestionError",
    "ModelUnavailableError",
    "Settings",
]

_moved.install()  # old module paths (assistant.store, ...) keep importing
