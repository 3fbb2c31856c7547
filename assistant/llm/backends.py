"""Builds a llama-index LLM from settings. The only module that reads LLM endpoints and keys.

``Settings.llm`` names the backend:

- ``extractive`` (default): no LLM; answers quote the documents.
- ``ollama:MODEL``: an Ollama server at ``llm_base_url`` (``http://localhost:11434`` when empty).
- ``openai:MODEL``: any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio, OpenAI) at
  ``llm_base_url``, with ``llm_api_key``.
- ``gguf:/path/model.gguf`` (``llamacpp:`` is the same): a local GGUF file served by xllamacpp's
  llama.cpp server in a child process (:mod:`assistant.llm.gguf`; ``pip install -e '.[gguf]'``, a
  prebuilt wheel).

The API key goes to the client object and nowhere else: it is not logged, printed, stored or put
into any error message (:func:`scrub` removes it from server replies quoted in messages).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import ConfigError
from .failure import LLMFailure

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

BACKENDS = ("extractive", "ollama", "openai", "gguf")
#: Other names of backends: ``llamacpp:`` named local GGUF files before xllamacpp served them.
ALIASES = {"llamacpp": "gguf"}
DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
#: Context window assumed for servers that do not report one (Ollama is asked otherwise).
DEFAULT_CONTEXT_WINDOW = 8192
#: Placeholder key for local OpenAI-compatible servers that need none (the client insists on one).
NO_KEY = "not-needed"


@dataclass(frozen=True)
class LLMSpec:
    """A parsed ``ASSISTANT_LLM`` value: the backend and its model (a name or a GGUF path)."""

    backend: str
    model: str = ""

    @property
    def enabled(self) -> bool:
        """True when answers go through an LLM."""
        return self.backend != "extractive"

    def __str__(self) -> str:
        return self.backend if not self.model else f"{self.backend}:{self.model}"


@dataclass(frozen=True)
class LLMTarget:
    """Where the LLM runs, for messages, and the key only to scrub it from them (never in the repr)."""

    where: str = ""
    model: str = ""
    timeout: float = 60.0
    secret: str = field(default="", repr=False)


def llm_target(settings: Settings, spec: LLMSpec | None = None) -> LLMTarget:
    """The endpoint, model, timeout (and key, for scrubbing) of the configured LLM."""
    spec = spec or parse_llm_spec(settings.llm)
    if not spec.enabled:
        return LLMTarget(timeout=settings.llm_timeout)
    return LLMTarget(endpoint(settings, spec), Path(spec.model).name if spec.backend == "gguf" else spec.model,
                     settings.llm_timeout, settings.llm_api_key)


def parse_llm_spec(value: str) -> LLMSpec:
    """Parse ``extractive``, ``ollama:MODEL``, ``openai:MODEL`` or ``gguf:/path.gguf`` (alias ``llamacpp:``).

    Raises:
        ConfigError: An unknown backend or a missing model name.
    """
    value = (value or "extractive").strip()
    if value == "extractive":
        return LLMSpec("extractive")
    backend, _, model = value.partition(":")
    backend = backend.strip().lower()
    backend = ALIASES.get(backend, backend)
    model = model.strip()
    if backend not in BACKENDS[1:] or not model:
        raise ConfigError(
            f"ASSISTANT_LLM={value!r} is not a valid LLM; use one of: extractive, ollama:MODEL "
            "(e.g. ollama:qwen2.5:7b), openai:MODEL (e.g. openai:gpt-4o-mini), gguf:/path/model.gguf."
        )
    return LLMSpec(backend, model)


def endpoint(settings: Settings, spec: LLMSpec) -> str:
    """Where the backend is reached: a base URL, or the GGUF path."""
    if spec.backend == "ollama":
        return (settings.llm_base_url or DEFAULT_OLLAMA_URL).rstrip("/")
    if spec.backend == "openai":
        return (settings.llm_base_url or DEFAULT_OPENAI_URL).rstrip("/")
    return spec.model


def build_llm(settings: Settings) -> LLM | None:
    """The llama-index LLM that ``settings.llm`` names, or ``None`` for ``extractive``.

    Nothing is contacted or started here: servers are reached, and a local GGUF model is checked
    and loaded, on the first question.

    Raises:
        ConfigError: The value is invalid or the backend's package is missing.
    """
    spec = parse_llm_spec(settings.llm)
    if not spec.enabled:
        return None
    builders = {"ollama": _build_ollama, "openai": _build_openai, "gguf": _build_gguf}
    try:
        return builders[spec.backend](settings, spec)
    except ConfigError:
        raise
    except Exception as error:  # a backend rejecting its arguments
        detail = scrub(str(error), settings.llm_api_key)[:200]
        raise ConfigError(f"Could not set up ASSISTANT_LLM={spec}: {type(error).__name__}: {detail}. "
                          "Check the model name, ASSISTANT_LLM_BASE_URL, or the GGUF file.") from None


def _build_ollama(settings: Settings, spec: LLMSpec) -> LLM:
    try:
        from llama_index.llms.ollama import Ollama
    except ImportError:
        raise ConfigError(_missing_package("llama-index-llms-ollama", "llm")) from None
    # A fixed context window: otherwise the class asks the server at construction time.
    return Ollama(model=spec.model, base_url=endpoint(settings, spec), temperature=settings.llm_temperature,
                  request_timeout=settings.llm_timeout, context_window=DEFAULT_CONTEXT_WINDOW,
                  additional_kwargs={"num_predict": settings.llm_max_tokens})


def _build_openai(settings: Settings, spec: LLMSpec) -> LLM:
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        raise ConfigError(_missing_package("llama-index-llms-openai-like", "llm")) from None
    base = endpoint(settings, spec)
    if base == DEFAULT_OPENAI_URL and not settings.llm_api_key:
        raise ConfigError(
            f"ASSISTANT_LLM={spec} talks to {DEFAULT_OPENAI_URL}, which needs a key: set ASSISTANT_LLM_API_KEY, "
            "or point ASSISTANT_LLM_BASE_URL at your own OpenAI-compatible server."
        )
    # No retries: a failure falls back to the extractive answer at once instead of waiting.
    return OpenAILike(model=spec.model, api_base=base, api_key=settings.llm_api_key or NO_KEY,
                      temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
                      timeout=settings.llm_timeout, max_retries=0, is_chat_model=True,
                      context_window=DEFAULT_CONTEXT_WINDOW)


def _build_gguf(settings: Settings, spec: LLMSpec) -> LLM:
    # The file is checked (exists, is GGUF, fits in memory) when the model is started, on the first
    # question: each problem is then one line before the extractive answer, not an error.
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(_missing_package("xllamacpp", "gguf"))
    from .gguf import LocalGGUF, ServerConfig, server_for

    path = Path(spec.model).expanduser().resolve()
    server = server_for(ServerConfig(path, context=DEFAULT_CONTEXT_WINDOW))
    return LocalGGUF(server, model=path.name, temperature=settings.llm_temperature,
                     max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout,
                     context_window=DEFAULT_CONTEXT_WINDOW)


def _missing_package(package: str, extra: str) -> str:
    return (f"The LLM backend needs the package {package}; run `pip install -e '.[{extra}]'` "
            f"(or `pip install {package}`).")


# -- calling ------------------------------------------------------------------------------------

def stream_reply(llm: LLM, messages: Sequence[ChatMessage], timeout: float, secret: str = "") -> Iterator[str]:
    """Stream the reply's text deltas; every failure surfaces as an :class:`LLMFailure`.

    Args:
        llm: Any llama-index LLM.
        messages: The chat messages.
        timeout: Seconds allowed for the whole reply (the client enforces it per read as well).
        secret: The API key, removed from any server text quoted in an error.

    Raises:
        LLMFailure: The call failed, stalled past ``timeout``, or returned no text.
    """
    deadline = time.monotonic() + timeout
    produced = False
    stream = None
    try:
        stream = llm.stream_chat(list(messages))
        for chunk in stream:
            delta = chunk.delta if chunk.delta is not None else ""
            if not isinstance(delta, str):
                raise LLMFailure("malformed", f"a reply chunk held {type(delta).__name__}, not text")
            if delta:
                produced = produced or bool(delta.strip())
                yield delta
            if time.monotonic() > deadline:
                raise LLMFailure("timeout", f"no complete reply within {timeout:g} s")
    except LLMFailure:
        raise
    except Exception as error:  # every client raises its own types; classify them all
        raise classify_failure(error, secret) from None
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    if not produced:
        raise LLMFailure("empty", "the reply had no text")


def complete_reply(llm: LLM, messages: Sequence[ChatMessage], timeout: float, secret: str = "") -> str:
    """The whole reply text (see :func:`stream_reply`)."""
    return "".join(stream_reply(llm, messages, timeout, secret))


def classify_failure(error: BaseException, secret: str = "") -> LLMFailure:
    """Map a client exception (openai, ollama, httpx) to an :class:`LLMFailure`."""
    status = _status_of(error)
    name = type(error).__name__
    text = scrub(str(error), secret)[:200]
    lowered = text.lower()
    if "timeout" in name.lower() or "timed out" in lowered:
        return LLMFailure("timeout", text)
    if status in (401, 403):
        return LLMFailure("auth", text, status)
    if status == 429:
        return LLMFailure("rate_limit", text, status)
    if status == 404 and "model" in lowered:
        return LLMFailure("model_missing", text, status)
    if status is not None and status >= 500:
        return LLMFailure("server", text, status)
    if isinstance(error, ConnectionError) or "connect" in name.lower() or "connection" in lowered:
        return LLMFailure("connection", text)
    if status is not None:
        return LLMFailure("server", text, status)
    return LLMFailure("malformed", f"{name}: {text}")


def _status_of(error: BaseException) -> int | None:
    for attribute in ("status_code", "status"):
        value = getattr(error, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    response: Any = getattr(error, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def scrub(text: str, secret: str) -> str:
    """``text`` with the secret (and its Bearer form) replaced by ``***``."""
    if secret and secret != NO_KEY:
        text = text.replace(secret, "***")
    return text
