"""Passages -> an Answer: the extractive answerer (:mod:`.extractive`) and the trained reader
(:mod:`.reader`), or the user's LLM (:mod:`.llm`, :mod:`.gguf`) through :mod:`.generate`, with the
wording in :mod:`.prompts` (package data)."""


def __getattr__(name: str):  # noqa: ANN202
    """Names of the old ``assistant.answer`` module, now in :mod:`.extractive`."""
    from . import extractive

    try:
        return getattr(extractive, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
