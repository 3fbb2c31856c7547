"""Answers questions about documents in Arabic or English, every answer tied to its passages.

>>> from assistant import Assistant
>>> bot = Assistant()
>>> bot.ask("How many civilians were killed?").text  # doctest: +SKIP
"""

from .api import Assistant, DocumentInfo
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
from .types import Answer, Chunk, Citation, Document, Hit, IndexReport

__all__ = [
    "Answer",
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
