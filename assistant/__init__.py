"""Answers questions about documents in Arabic or English, every answer tied to its passages.

>>> from assistant import Assistant
>>> bot = Assistant()
>>> bot.ask("How many civilians were killed?").text  # doctest: +SKIP
"""

from .config import Settings, set_library_defaults
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

set_library_defaults()  # telemetry off, offline hub, OpenMP wait policy: before torch loads

from .api import Assistant, DocumentInfo  # noqa: E402
from .chat import ChatSession  # noqa: E402

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
