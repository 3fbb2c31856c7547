"""LLM backends: settings parsing, and real HTTP round trips of llama-index's OpenAILike and Ollama
classes against scripted servers on 127.0.0.1 (streaming, errors, timeouts). No real model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_servers import FakeServer, Garbage, Reply, Stall, Status, closed_port_url

from assistant import Settings
from assistant.errors import ConfigError
from assistant.llm.backends import LLMTarget, build_llm, classify_failure, parse_llm_spec, stream_reply
from assistant.llm.failure import LLMFailure

KEY = "sk-test-0123456789abcdef"


def _messages():
    from llama_index.core.llms import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole.SYSTEM, content="Answer from the sources."),
            ChatMessage(role=MessageRole.USER, content="Question: how many?")]


# -- settings -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "backend", "model"), [
    ("extractive", "extractive", ""), ("", "extractive", ""), ("ollama:qwen2.5:7b", "ollama", "qwen2.5:7b"),
    ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"), ("gguf:/models/a.gguf", "gguf", "/models/a.gguf"),
    ("llamacpp:/models/a.gguf", "gguf", "/models/a.gguf"),
])
def test_parse_llm_spec(value: str, backend: str, model: str) -> None:
    spec = parse_llm_spec(value)
    assert (spec.backend, spec.model) == (backend, model)


@pytest.mark.parametrize("value", ["gpt-4", "ollama:", "claude:x", "openai"])
def test_invalid_llm_names_the_valid_forms(value: str) -> None:
    with pytest.raises(ConfigError, match="extractive, ollama:MODEL"):
        parse_llm_spec(value)


def test_extractive_builds_no_llm() -> None:
    assert build_llm(Settings()) is None


def test_openai_backend_is_built_without_contacting_anything() -> None:
    llm = build_llm(Settings(llm="openai:some-model", llm_base_url="http://127.0.0.1:9/v1", llm_timeout=7,
                             llm_api_key=KEY))
    assert type(llm).__name__ == "OpenAILike"
    assert (llm.model, llm.api_base, llm.timeout, llm.max_retries) == ("some-model", "http://127.0.0.1:9/v1", 7, 0)


def test_ollama_backend_is_built_with_its_url_and_timeout() -> None:
    llm = build_llm(Settings(llm="ollama:qwen2.5:7b", llm_base_url="http://127.0.0.1:9", llm_timeout=5))
    assert type(llm).__name__ == "Ollama"
    assert (llm.model, llm.base_url, llm.request_timeout) == ("qwen2.5:7b", "http://127.0.0.1:9", 5)


def test_openai_without_a_key_or_server_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_API_KEY"):
        build_llm(Settings(llm="openai:gpt-4o-mini"))


def test_gguf_backend_is_built_without_touching_the_file(tmp_path: Path) -> None:
    # The file is checked when the model starts, on the first question, so that a bad one ends in
    # one line and the extractive answer (tests/test_gguf.py), not in an error.
    llm = build_llm(Settings(llm=f"gguf:{tmp_path / 'missing.gguf'}", llm_timeout=7, llm_max_tokens=99))
    assert type(llm).__name__ == "LocalGGUF" and llm.server.pid is None
    assert (llm.model, llm.timeout, llm.max_tokens, llm.max_retries) == ("missing.gguf", 7, 99, 0)


def test_key_is_not_in_any_repr() -> None:
    settings = Settings(llm="openai:m", llm_base_url="http://127.0.0.1:9/v1", llm_api_key=KEY)
    assert KEY not in repr(settings) and KEY not in repr(LLMTarget(secret=KEY))
    failure = classify_failure(RuntimeError(f"server said: bad key {KEY}"), KEY)
    assert KEY not in str(failure) and "***" in str(failure)


def test_answer_modes_follow_the_llm_setting(tmp_path: Path) -> None:
    from assistant import Assistant

    extractive = Assistant(Settings(index_dir=tmp_path))
    assert extractive.answer_modes == ("extractive",) and extractive.check_mode(None) == "extractive"
    with pytest.raises(ConfigError, match="set ASSISTANT_LLM to use an LLM"):
        extractive.check_mode("llm")
    with_llm = Assistant(Settings(index_dir=tmp_path, llm="ollama:qwen2.5:7b"))
    assert with_llm.answer_modes == ("llm", "extractive") and with_llm.check_mode(None) == "llm"
    with pytest.raises(ConfigError, match="choose one of: llm, extractive"):
        with_llm.chat(mode="gpt")


# -- real backends over HTTP ------------------------------------------------------------------------

def _llm(kind: str, url: str, timeout: float = 5.0):
    model = "fake-model" if kind == "openai" else "qwen-fake"
    return build_llm(Settings(llm=f"{kind}:{model}", llm_base_url=url, llm_timeout=timeout, llm_api_key=KEY))


@pytest.fixture(params=["openai", "ollama"])
def server(request):
    with FakeServer(request.param) as fake:
        yield fake


def test_streamed_reply_arrives_in_pieces(server: FakeServer) -> None:
    server.enqueue(Reply("Seven civilians were killed [1].", piece=5))
    deltas = list(stream_reply(_llm(server.kind, server.base_url), _messages(), timeout=5, secret=KEY))
    assert len(deltas) > 3 and "".join(deltas) == "Seven civilians were killed [1]."
    request = server.requests[-1]
    assert request["body"]["stream"] is True
    assert request["body"]["messages"][0]["content"] == "Answer from the sources."
    if server.kind == "openai":
        assert request["path"] == "/v1/chat/completions"
        assert request["headers"].get("Authorization") == f"Bearer {KEY}"
    else:
        assert request["path"] == "/api/chat"


@pytest.mark.parametrize(("script", "kind"), [
    (Status(401, {"error": {"message": "invalid api key"}}), "auth"),
    (Status(403, {"error": {"message": "forbidden"}}), "auth"),
    (Status(429, {"error": {"message": "slow down"}}), "rate_limit"),
    (Status(500, {"error": {"message": "boom"}}), "server"),
    (Status(503, {"error": {"message": "overloaded"}}), "server"),
    (Reply(""), "empty"),
    (Reply("   \n "), "empty"),
])
def test_each_failure_is_classified(server: FakeServer, script, kind: str) -> None:
    server.enqueue(script)
    with pytest.raises(LLMFailure) as caught:
        list(stream_reply(_llm(server.kind, server.base_url), _messages(), timeout=5, secret=KEY))
    assert caught.value.kind == kind
    assert KEY not in str(caught.value)


def test_garbage_is_malformed(server: FakeServer) -> None:
    server.enqueue(Garbage("data: {not json\n\n" if server.kind == "openai" else "{not json\n"))
    with pytest.raises(LLMFailure) as caught:
        list(stream_reply(_llm(server.kind, server.base_url), _messages(), timeout=5))
    assert caught.value.kind in ("malformed", "empty")


def test_stalled_server_times_out(server: FakeServer) -> None:
    server.enqueue(Stall(3.0))
    with pytest.raises(LLMFailure) as caught:
        list(stream_reply(_llm(server.kind, server.base_url, timeout=0.5), _messages(), timeout=0.5))
    assert caught.value.kind == "timeout"


def test_slow_stream_past_the_deadline_times_out(server: FakeServer) -> None:
    server.enqueue(Reply("x" * 40, piece=2, delay=0.1))
    with pytest.raises(LLMFailure) as caught:
        list(stream_reply(_llm(server.kind, server.base_url, timeout=0.6), _messages(), timeout=0.6))
    assert caught.value.kind == "timeout"


def test_model_not_installed_on_ollama() -> None:
    with FakeServer("ollama") as server:
        server.enqueue(Status(404, {"error": "model \"qwen-fake\" not found, try pulling it first"}))
        with pytest.raises(LLMFailure) as caught:
            list(stream_reply(_llm("ollama", server.base_url), _messages(), timeout=5))
    assert caught.value.kind == "model_missing"


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_connection_refused(kind: str) -> None:
    with pytest.raises(LLMFailure) as caught:
        list(stream_reply(_llm(kind, closed_port_url(kind)), _messages(), timeout=5))
    assert caught.value.kind == "connection"


# -- the whole path over HTTP ---------------------------------------------------------------------------

@pytest.fixture
def http_bot(bot):
    """An assistant over ``bot``'s index whose LLM is a scripted OpenAI-compatible server."""
    from assistant import Assistant

    with FakeServer("openai") as server:
        settings = bot.settings.replace(llm="openai:fake-model", llm_base_url=server.base_url, llm_api_key=KEY,
                                        llm_timeout=5.0)
        yield Assistant(settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second), server


def _passage_number(assistant, question: str, evidence: str) -> int:
    vectors = assistant.parts.retriever.embed(question)
    hits = assistant.parts.retriever.retrieve_with_vectors(question, vectors, assistant.settings.top_k)
    return next(n for n, hit in enumerate(hits, start=1) if evidence in hit.text)


def test_http_answer_is_streamed_verified_and_cited(http_bot) -> None:
    assistant, server = http_bot
    question = "How many civilians were killed?"
    n = _passage_number(assistant, question, "وسبعة مدنيين")
    server.enqueue(Reply(f"Seven civilians were killed in the clashes [{n}]. They were born in 1967 [{n}].", piece=8))
    stream = assistant.ask_stream(question)
    events = list(stream)
    final = stream.answer()
    assert sum(isinstance(e, str) for e in events) > 3 and "".join(events) == stream.draft
    assert final.mode == "llm" and final.text == "Seven civilians were killed in the clashes [1]."
    assert any("1967" in note for note in final.notes)
    assert KEY not in repr(final.to_dict())


@pytest.mark.parametrize(("script", "words"), [
    (Status(401, {"error": {"message": f"bad key {KEY}"}}), "ASSISTANT_LLM_API_KEY"),
    (Status(429, {}), "429"),
    (Status(502, {}), "HTTP 502"),
    (Stall(3.0), "ASSISTANT_LLM_TIMEOUT"),
])
def test_http_failure_falls_back_with_one_line(http_bot, script, words: str) -> None:
    assistant, server = http_bot
    if isinstance(script, Stall):
        assistant = type(assistant)(assistant.settings.replace(llm_timeout=0.5), embedder=assistant.parts.embedder,
                                    second_embedder=assistant.parts.encoders.second)
    server.enqueue(script)
    answer = assistant.ask("Who is the commander-in-chief of the SDF?")
    message, _, rest = answer.text.partition("\n\n")
    assert words in message and "\n" not in message and rest
    assert answer.mode == "extractive" and answer.grounded and KEY not in answer.text + " ".join(answer.notes)


def test_http_failure_message_is_in_the_question_language(http_bot) -> None:
    assistant, server = http_bot
    server.enqueue(Status(500, {}))
    answer = assistant.ask("من هو القائد العام لقسد؟")
    assert answer.text.startswith("تعطّل خادم النموذج اللغوي (HTTP 500)")


# -- a real GGUF, when one is given (`make llm-model` assembles one) -----------------------------------

@pytest.mark.gguf
@pytest.mark.skipif(not os.environ.get("ASSISTANT_TEST_GGUF"), reason="set ASSISTANT_TEST_GGUF to a .gguf file")
def test_gguf_backend_runs_a_real_model(bot) -> None:
    from assistant import Assistant

    pytest.importorskip("xllamacpp", reason="pip install -e '.[gguf]'")
    settings = bot.settings.replace(llm=f"gguf:{os.environ['ASSISTANT_TEST_GGUF']}", llm_max_tokens=64,
                                    llm_timeout=300)
    llm = build_llm(settings)
    assert "".join(stream_reply(llm, _messages(), timeout=300)).strip()
    assistant = Assistant(settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second)
    answer = assistant.ask("How many civilians were killed?")
    # The model's own answer, verified; or, when verification kept none of its sentences, the
    # extractive one after that line. Never a failure to run the model.
    assert answer.mode == "llm" or any("unverified" in note for note in answer.notes), answer.notes
    assert answer.grounded and answer.citations
