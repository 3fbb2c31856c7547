"""Text, pure: Arabic/English normalisation, sentences and tokens (:mod:`.normalize`), and the
FreeDict glossary that lets a question search text in the other language (:mod:`.glossary`)."""


def __getattr__(name: str):  # noqa: ANN202
    """Names of the old ``assistant.text`` module, now in :mod:`.normalize`."""
    from . import normalize

    try:
        return getattr(normalize, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
