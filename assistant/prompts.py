"""Prompt and wording templates: data files in ``prompts/``, loaded once, placeholders checked."""

from __future__ import annotations

import functools
import string
import tomllib
from pathlib import Path

from .errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

#: Placeholders each extractive template must use, exactly.
EXTRACTIVE_FIELDS = {
    "with_short": {"short", "quote", "n"},
    "quote_only": {"quote", "n"},
    "extra_quote": {"quote", "n"},
    "conflict": {"claims"},
    "claim_with_speaker": {"speaker", "quote", "n"},
    "claim": {"quote", "n"},
    "refusal": set(),
}
LANGUAGES = ("ar", "en")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields a format string uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@functools.lru_cache(maxsize=8)
def load_extractive(prompts_dir: Path = PROMPTS_DIR) -> dict[str, dict[str, str]]:
    """The extractive answer wording, ``{language: {template name: text}}``.

    Raises:
        ConfigError: The file is missing, a language or template is missing, or a template's
            placeholders differ from the expected ones.
    """
    path = Path(prompts_dir) / "extractive.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}. Restore it from git.") from None
    for language in LANGUAGES:
        templates = data.get(language)
        if not isinstance(templates, dict):
            raise ConfigError(f"{path} has no [{language}] table; add one with {sorted(EXTRACTIVE_FIELDS)}.")
        for name, fields in EXTRACTIVE_FIELDS.items():
            if name not in templates:
                raise ConfigError(f"{path} [{language}] lacks {name!r}; it needs {sorted(fields) or 'no'} placeholders.")
            found = placeholders(templates[name])
            if found != fields:
                raise ConfigError(
                    f"{path} [{language}].{name} uses placeholders {sorted(found)}, expected {sorted(fields)}."
                )
    return {language: dict(data[language]) for language in LANGUAGES}
