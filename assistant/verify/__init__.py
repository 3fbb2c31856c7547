"""Checks an LLM's answer sentence by sentence against the passages it cites (pure; the LLM
answerer in :mod:`assistant.answer.generate` runs it on every draft): :mod:`.claims` splits the
answer, :mod:`.facts` and :mod:`.wording` read what a sentence and a passage say, :mod:`.checks`
gives the verdicts (:mod:`.answers`: whether a supported sentence answers the question), :mod:`.compose`
writes the verified answer."""

from ..config import VerifySettings
from .checks import verify_claims
from .claims import MARKER, Claim, ReaderAnswer, Source, Verdict, split_claims
from .compose import Composed, compose

__all__ = ["MARKER", "Claim", "ReaderAnswer", "Composed", "Source", "Verdict", "VerifySettings", "compose",
           "split_claims", "verify_claims"]
