"""Errors the assistant raises, each naming the problem and the fix.

The CLI and the web UI print ``str(error)`` and nothing else: no traceback ever reaches a user.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: every message says what went wrong and what to do about it."""


class InvalidQuestionError(AssistantError, ValueError):
    """The question is empty, too long, or has no usable text."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings (model, dimension, chunking)."""


class IndexMissingError(AssistantError):
    """There is no index yet."""


class IndexLockedError(AssistantError):
    """Another process is writing to the same index."""


class ModelUnavailableError(AssistantError):
    """A model could not be loaded offline, or assembled from its packages."""


class ConfigError(AssistantError, ValueError):
    """A setting has a value the assistant cannot use."""


class SkipFile(Exception):
    """A file cannot be indexed; the message is the reason shown to the user. Not an
    :class:`AssistantError`: indexing catches it, lists the file as skipped and goes on."""
