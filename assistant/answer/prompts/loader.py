"""Prompt and wording templates: data files in ``prompts/``, loaded once, placeholders checked."""

from __future__ import annotations

import functools
import string
import tomllib
from pathlib import Path

from ...errors import ConfigError
from ...llm.failure import LLM_FAILURE_KINDS

PROMPTS_DIR = Path(__file__).resolve().parent

#: Placeholders each extractive template must use, exactly.
EXTRACTIVE_FIELDS = {
    "with_short": {"short", "quote", "n"},
    "quote_only": {"quote", "n"},
    "extra_quote": {"quote", "n"},
    "conflict": {"claims"},
    "claim_with_speaker": {"speaker", "quote", "n"},
    "claim": {"quote", "n"},
    "value_claim_with_speaker": {"value", "speaker", "quote", "n"},
    "value_claim": {"value", "quote", "n"},
    "refusal": set(),
    "closest": {"quote", "n"},
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
                raise ConfigError(
                    f"{path} [{language}] lacks {name!r}; it needs {sorted(fields) or 'no'} placeholders.")
            found = placeholders(templates[name])
            if found != fields:
                raise ConfigError(
                    f"{path} [{language}].{name} uses placeholders {sorted(found)}, expected {sorted(fields)}."
                )
    return {language: dict(data[language]) for language in LANGUAGES}


#: Placeholders of the citation QA prompt (exactly), and those a failure message may use.
CITATION_QA_FIELDS = {
    "system": {"refusal"},
    "user": {"sources", "question"},
    "source": {"n", "title", "text"},
    "unverified": set(),
    "fallback_note": {"reason"},
}
MESSAGE_KINDS = (*LLM_FAILURE_KINDS, "unverified")
MESSAGE_FIELDS = {"where", "model", "status", "timeout", "detail"}
CONDENSE_FIELDS = {"system": set(), "user": {"history", "question"}}


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}. Restore it from git.") from None


def _check_templates(path: Path, table: str, templates: object, expected: dict[str, set[str]]) -> dict[str, str]:
    if not isinstance(templates, dict):
        raise ConfigError(f"{path} has no [{table}] table; add one with {sorted(expected)}.")
    for name, fields in expected.items():
        if not isinstance(templates.get(name), str):
            raise ConfigError(f"{path} [{table}] lacks {name!r}; it needs {sorted(fields) or 'no'} placeholders.")
        found = placeholders(templates[name])
        if found != fields:
            raise ConfigError(f"{path} [{table}].{name} uses placeholders {sorted(found)}, expected {sorted(fields)}.")
    return templates


@functools.lru_cache(maxsize=8)
def load_citation_qa(prompts_dir: Path = PROMPTS_DIR) -> dict[str, dict]:
    """The LLM prompt and failure messages, ``{language: {name: text, "messages": {kind: text}}}``.

    Raises:
        ConfigError: The file is missing, a language, template or message is missing, or
            placeholders differ from the expected ones.
    """
    path = Path(prompts_dir) / "citation_qa.toml"
    data = _read_toml(path)
    loaded: dict[str, dict] = {}
    for language in LANGUAGES:
        templates = _check_templates(path, language, data.get(language), CITATION_QA_FIELDS)
        messages = templates.get("messages")
        if not isinstance(messages, dict):
            raise ConfigError(f"{path} has no [{language}.messages] table; add one with {list(MESSAGE_KINDS)}.")
        for kind in MESSAGE_KINDS:
            if not isinstance(messages.get(kind), str):
                raise ConfigError(f"{path} [{language}.messages] lacks {kind!r}.")
            extra = placeholders(messages[kind]) - MESSAGE_FIELDS
            if extra:
                raise ConfigError(f"{path} [{language}.messages].{kind} uses {sorted(extra)}; "
                                  f"messages may use only {sorted(MESSAGE_FIELDS)}.")
        loaded[language] = {**{k: templates[k] for k in CITATION_QA_FIELDS}, "messages": dict(messages)}
    return loaded


@functools.lru_cache(maxsize=8)
def load_condense(prompts_dir: Path = PROMPTS_DIR) -> dict[str, dict[str, str]]:
    """The follow-up rewriting prompt, ``{language: {"system": ..., "user": ...}}``.

    Raises:
        ConfigError: The file is missing, or a language or template is missing or has other placeholders.
    """
    path = Path(prompts_dir) / "condense.toml"
    data = _read_toml(path)
    return {language: dict(_check_templates(path, language, data.get(language), CONDENSE_FIELDS))
            for language in LANGUAGES}
