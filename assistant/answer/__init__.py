"""Passages -> an Answer: the extractive answerer (:mod:`.extractive`) and the trained reader
(:mod:`.reader`), or the user's LLM (:mod:`assistant.llm`) through :mod:`.generate`, with the
wording in :mod:`.prompts` (package data)."""

