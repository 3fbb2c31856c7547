"""How an LLM call failed: one kind per failure, each with a one-line message in the question's language
(the messages live with the prompts, :mod:`assistant.answer.prompts.loader`)."""

from __future__ import annotations

from ..errors import AssistantError

#: How an LLM call can fail (:class:`LLMFailure`); each has a message.
LLM_FAILURE_KINDS = ("connection", "timeout", "auth", "rate_limit", "server", "empty", "malformed", "model_missing",
                     "unavailable", "gguf_missing", "gguf_invalid", "gguf_too_big")


class LLMFailure(AssistantError):
    """One failed LLM call, classified so the user gets a one-line message in their language.

    Attributes:
        kind: ``connection``, ``timeout``, ``auth``, ``rate_limit``, ``server``, ``empty``,
            ``malformed``, ``model_missing``, ``unavailable`` (a local model could not be started),
            or for a local GGUF file ``gguf_missing``, ``gguf_invalid`` or ``gguf_too_big``.
        status: The HTTP status, when there was one.
        detail: A short, key-free description for logs and notes.
    """

    KINDS = LLM_FAILURE_KINDS

    def __init__(self, kind: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"LLM {kind}{f' (HTTP {status})' if status else ''}: {detail}".rstrip(": "))
        self.kind = kind
        self.status = status
        self.detail = detail
