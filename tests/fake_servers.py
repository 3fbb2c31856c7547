"""Fakes for the LLM path: a scripted llama-index LLM, and OpenAI-compatible and Ollama-protocol
HTTP servers on 127.0.0.1 whose replies a test enqueues (text, streamed or not, HTTP errors,
stalls and garbage). The real llama-index backends talk to the servers over real sockets.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

# -- a scripted llama-index LLM -------------------------------------------------------------------


class ScriptedLLM(CustomLLM):
    """A llama-index ``CustomLLM`` replying with what the test enqueued, in order.

    A reply is a string (streamed in small pieces), or an exception instance to raise. Every
    prompt received is kept in ``prompts``; ``calls`` counts them.
    """

    _replies: deque = PrivateAttr(default_factory=deque)
    _prompts: list = PrivateAttr(default_factory=list)
    _piece: int = PrivateAttr(default=7)
    _delay: float = PrivateAttr(default=0.0)

    @property
    def metadata(self) -> LLMMetadata:
        """A chat-less completion model."""
        return LLMMetadata(model_name="scripted", is_chat_model=False, context_window=32_000, num_output=512)

    def enqueue(self, *replies: str | BaseException) -> ScriptedLLM:
        """Queue replies for the next calls."""
        self._replies.extend(replies)
        return self

    def slowly(self, delay: float) -> ScriptedLLM:
        """Stream each piece ``delay`` seconds after the last (a reply a user can stop midway)."""
        self._delay = delay
        return self

    def clear(self) -> None:
        """Forget replies not used yet."""
        self._replies.clear()

    @property
    def prompts(self) -> list[str]:
        """Prompts received so far."""
        return self._prompts

    @property
    def pending(self) -> int:
        """Replies not used yet."""
        return len(self._replies)

    def _next(self, prompt: str) -> str:
        self._prompts.append(prompt)
        if not self._replies:
            raise AssertionError("ScriptedLLM was called with no reply enqueued")
        reply = self._replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """The next reply, whole."""
        return CompletionResponse(text=self._next(prompt))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """The next reply, in small pieces."""
        reply = self._next(prompt)
        piece, delay = self._piece, self._delay

        def pieces() -> Iterator[CompletionResponse]:
            for start in range(0, len(reply), piece):
                time.sleep(delay)
                yield CompletionResponse(text=reply[:start + piece], delta=reply[start:start + piece])

        return pieces()


# -- scripted HTTP servers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Answer with this text (streamed when the request asks for it), in pieces of ``piece`` chars."""

    text: str
    piece: int = 6
    delay: float = 0.0  # seconds between streamed pieces


@dataclass(frozen=True)
class Status:
    """Answer with an HTTP error status and a JSON body."""

    code: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    """Wait this long before answering (longer than the client's timeout)."""

    seconds: float


@dataclass(frozen=True)
class Garbage:
    """Answer 200 with a body that is not what the protocol promises."""

    body: str = "<html>not json</html>"


Script = Reply | Status | Stall | Garbage


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence request logs
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._json(200, self.server.protocol.index())

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        script = self.server.next_script()
        if isinstance(script, Stall):
            time.sleep(script.seconds)
            script = Reply("late")
        if isinstance(script, Status):
            self._json(script.code, script.body, script.headers)
        elif isinstance(script, Garbage):
            self._raw(200, script.body.encode(), "application/json")
        elif body.get("stream"):
            self._stream(script, body)
        else:
            self._json(200, self.server.protocol.whole(script.text, body))

    def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(code, json.dumps(payload, ensure_ascii=False).encode(), "application/json", headers)

    def _raw(self, code: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, script: Reply, body: dict[str, Any]) -> None:
        protocol = self.server.protocol
        self.send_response(200)
        self.send_header("content-type", protocol.stream_type)
        self.send_header("connection", "close")
        self.end_headers()
        try:
            for start in range(0, len(script.text), script.piece):
                self.wfile.write(protocol.piece(script.text[start:start + script.piece], body))
                self.wfile.flush()
                if script.delay:
                    time.sleep(script.delay)
            self.wfile.write(protocol.end(body))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to do
        self.close_connection = True


class OpenAIProtocol:
    """``POST /v1/chat/completions``, whole JSON or server-sent events."""

    stream_type = "text/event-stream"

    def index(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    def whole(self, text: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    def _chunk(self, delta: dict[str, Any], body: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": body.get("model", "fake"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()

    def piece(self, text: str, body: dict[str, Any]) -> bytes:
        return self._chunk({"role": "assistant", "content": text}, body)

    def end(self, body: dict[str, Any]) -> bytes:
        return self._chunk({}, body, "stop") + b"data: [DONE]\n\n"


class OllamaProtocol:
    """``POST /api/chat``, whole JSON or newline-delimited JSON."""

    stream_type = "application/x-ndjson"

    def index(self) -> dict[str, Any]:
        return {"status": "Ollama is running"}

    def whole(self, text: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"model": body.get("model", "fake"), "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": text}, "done": True, "done_reason": "stop"}

    def piece(self, text: str, body: dict[str, Any]) -> bytes:
        line = {"model": body.get("model", "fake"), "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": text}, "done": False}
        return (json.dumps(line, ensure_ascii=False) + "\n").encode()

    def end(self, body: dict[str, Any]) -> bytes:
        line = {"model": body.get("model", "fake"), "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
        return (json.dumps(line) + "\n").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, protocol: OpenAIProtocol | OllamaProtocol) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.protocol = protocol
        self.scripts: deque[Script] = deque()
        self.requests: list[dict[str, Any]] = []
        self._guard = threading.Lock()

    def next_script(self) -> Script:
        with self._guard:
            return self.scripts.popleft() if self.scripts else Status(500, {"error": "no reply scripted"})


class FakeServer:
    """A scripted LLM server on 127.0.0.1; use as a context manager.

    Args:
        kind: ``openai`` (base URL ends in ``/v1``) or ``ollama``.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._server = _Server(OpenAIProtocol() if kind == "openai" else OllamaProtocol())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What ``ASSISTANT_LLM_BASE_URL`` should be."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}" + ("/v1" if self.kind == "openai" else "")

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Requests received: path, headers and JSON body."""
        return self._server.requests

    def enqueue(self, *scripts: Script) -> FakeServer:
        """Queue the responses to the next requests."""
        self._server.scripts.extend(scripts)
        return self

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url(kind: str = "openai") -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")
