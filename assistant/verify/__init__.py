"""Checks an LLM's answer sentence by sentence against the passages it cites (pure; the LLM
answerer in :mod:`assistant.answer.generate` runs it on every draft)."""

from .checks import (
    MARKER,
    Claim,
    ReaderAnswer,
    Rendered,
    Source,
    Verdict,
    VerifySettings,
    render,
    split_claims,
    verify_claims,
)

__all__ = ["MARKER", "Claim", "ReaderAnswer", "Rendered", "Source", "Verdict", "VerifySettings", "render",
           "split_claims", "verify_claims"]
