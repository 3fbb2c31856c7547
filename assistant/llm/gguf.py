"""A local GGUF model (``ASSISTANT_LLM=gguf:/path/model.gguf``) served by xllamacpp in a child process.

xllamacpp is a prebuilt wheel of llama.cpp with llama.cpp's OpenAI-compatible server inside. The
model runs in a child process (:mod:`assistant.llm.gguf_child`) that serves it on 127.0.0.1 at a free
port, and the answers go through llama-index's ``OpenAILike`` class, the one the ``openai:``
backend uses: the same streaming, timeout, failure classes and sentence verification.

Why a child process and not ``xllamacpp.Server`` in this one: llama.cpp's server installs its own
SIGINT and SIGTERM handlers when it starts, which would take Ctrl-C away from the CLI and the web
app; a crash or an out-of-memory kill of the model takes the child, not the app (the next answer
falls back to the extractive one and the question after it starts a new child); and the memory
goes back when the child stops. The child reads its standard input until it closes, so it stops
when this process exits, however it exits; :func:`stop_all` runs at exit to stop it cleanly.

Each model file is served once per process, however many assistants use it (:func:`server_for`),
and the child starts on the first question, not at construction. Before starting it the file is
checked (it exists, it starts with the GGUF magic, it fits in the memory available); each problem
is an :class:`~assistant.llm.failure.LLMFailure` whose kind has a one-line message in the question's
language, after which the extractive answer follows.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import re
import secrets
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.llms.openai_like import OpenAILike

from .failure import LLMFailure

#: The first four bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"
#: Memory a model needs beyond the size of its file: the KV cache of the context and llama.cpp's
#: compute buffers (what the bench's model peaked at: docs/llm-bench.md).
MEMORY_HEADROOM = 512 * 2**20
#: Seconds allowed for the child to load the model and start listening.
START_TIMEOUT = 180.0
CHILD_SCRIPT = Path(__file__).resolve().with_name("gguf_child.py")
_LOG_LINE = re.compile(r"^[\d.]+\s+([EWI])\s+(?:\w+\s+)?(.*)$")


# -- checks before loading (pure but for reading four bytes and the file size) ---------------------

def check_gguf(path: Path, available: int | None) -> int:
    """The size of the GGUF file at ``path``, after checking it can be loaded at all.

    Args:
        path: The model file.
        available: Bytes of memory available (:func:`available_memory`); ``None`` skips that check.

    Raises:
        LLMFailure: ``gguf_missing`` (no such file), ``gguf_invalid`` (not GGUF) or ``gguf_too_big``
            (the file plus :data:`MEMORY_HEADROOM` exceeds ``available``); ``detail`` says by how much.
    """
    if not path.is_file():
        raise LLMFailure("gguf_missing", f"no file at {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
        size = path.stat().st_size
    except OSError as error:
        raise LLMFailure("gguf_missing", f"cannot read {path}: {error.strerror}") from None
    if magic != GGUF_MAGIC:
        raise LLMFailure("gguf_invalid", f"{path} starts with {magic!r}, not {GGUF_MAGIC!r}")
    if available is not None and size + MEMORY_HEADROOM > available:
        raise LLMFailure("gguf_too_big", f"{_gb(size + MEMORY_HEADROOM)} > {_gb(available)}")
    return size


def _gb(count: int) -> str:
    return f"{count / 1e9:.1f} GB"


def available_memory(meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes of memory a new process can use: ``MemAvailable``, capped by a cgroup v2 limit; ``None`` if unknown."""
    available = None
    try:
        match = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo.read_text(), flags=re.M)
        available = int(match.group(1)) * 1024 if match else None
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            available = min(available, int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return available


def failure_line(log: list[str]) -> str:
    """The line of llama.cpp's log that says why loading failed: its first error, else its last line."""
    for line in log:
        match = _LOG_LINE.match(line)
        if match and match.group(1) == "E":
            return match.group(2).strip()
    return log[-1].strip() if log else "the process exited without a message"


# -- the child process -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerConfig:
    """What one child serves: the model file (resolved), its context, threads, and the command prefix."""

    path: Path
    context: int = 8192
    threads: int = 0
    command: tuple[str, ...] = (sys.executable, str(CHILD_SCRIPT))


class LocalServer:
    """One child process serving one GGUF file, started on first use (:meth:`url`).

    A file that failed to load is not tried again until it changes (size or modification time),
    so a broken model costs one attempt, not one per question.

    Args:
        config: The model and how to serve it.
        memory: Bytes of memory available, asked before each start.
        start_timeout: Seconds allowed for loading.
    """

    def __init__(self, config: ServerConfig, memory: Callable[[], int | None] = available_memory,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.config = config
        self.key = secrets.token_urlsafe(24)  # the child serves only whoever holds it
        self._memory = memory
        self._start_timeout = start_timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._address = ""
        self._log: collections.deque[str] = collections.deque(maxlen=200)
        self._failed: tuple[tuple[int, int], LLMFailure] | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``), starting the child when it does not run.

        Raises:
            LLMFailure: The file is missing, not GGUF or too big (checked first), or the child
                could not load it (``unavailable``).
        """
        with self._lock:
            if self.pid is None:
                self._start()
            return f"{self._address}/v1"

    def _start(self) -> None:
        path = self.config.path
        check_gguf(path, self._memory())
        stamp = _file_stamp(path)
        if self._failed is not None and self._failed[0] == stamp:
            raise self._failed[1]
        self._stop_process()
        self._log.clear()
        self._process = subprocess.Popen(
            [*self.config.command, "--model", str(path), "--context", str(self.config.context),
             "--threads", str(self.config.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "ASSISTANT_GGUF_KEY": self.key},
            start_new_session=True,  # Ctrl-C in a terminal reaches this process, which then stops the child
        )
        threading.Thread(target=self._drain, args=(self._process,), daemon=True).start()
        try:
            self._address = self._ready_address(self._process)
        except LLMFailure as failure:
            self._stop_process()
            self._failed = (stamp, failure)
            raise
        self._failed = None

    def _ready_address(self, process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + self._start_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMFailure("unavailable",
                                 f"{self.config.path.name} did not load within {self._start_timeout:g} s")
            readable, _, _ = select.select([process.stdout], [], [], min(left, 0.5))
            if readable:
                line = process.stdout.readline()
                if line:
                    try:
                        return str(json.loads(line)["address"])
                    except (ValueError, KeyError, TypeError):
                        continue  # not the ready line
            if process.poll() is not None:
                process.wait()
                time.sleep(0.1)  # let the log reader take the last lines
                raise LLMFailure("unavailable", f"xllamacpp could not load {self.config.path.name}: "
                                                f"{failure_line(list(self._log))}")

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        """Keep the last lines of the child's log (llama.cpp writes a few per request)."""
        assert process.stderr is not None
        for raw in process.stderr:
            self._log.append(raw.decode("utf-8", "replace").rstrip())
        process.stderr.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child: close its input, wait for it to unload, then terminate it if it must."""
        with self._lock:
            self._stop_process(timeout)

    def _stop_process(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def _file_stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


_SERVERS: dict[ServerConfig, LocalServer] = {}
_SERVERS_LOCK = threading.Lock()


def server_for(config: ServerConfig) -> LocalServer:
    """The one :class:`LocalServer` of this process for ``config`` (created on first request, not started)."""
    with _SERVERS_LOCK:
        server = _SERVERS.get(config)
        if server is None:
            if not _SERVERS:
                atexit.register(stop_all)
            server = _SERVERS[config] = LocalServer(config)
        return server


def stop_all() -> None:
    """Stop every child this process started (registered with :mod:`atexit`)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
    for server in servers:
        server.stop()


# -- the llama-index LLM -------------------------------------------------------------------------------

class LocalGGUF(OpenAILike):
    """llama-index's ``OpenAILike`` talking to a :class:`LocalServer`, which it starts on the first request.

    Every request asks the server for its address (``reuse_client=False``), so a child that died
    is started again on the next question.
    """

    _server: LocalServer = PrivateAttr()

    def __init__(self, server: LocalServer, **kwargs: Any) -> None:
        super().__init__(api_base="http://127.0.0.1:0/v1", api_key="unused", reuse_client=False, max_retries=0,
                         is_chat_model=True, **kwargs)
        self._server = server

    @classmethod
    def class_name(cls) -> str:
        return "assistant_local_gguf"

    @property
    def server(self) -> LocalServer:
        """The child process this LLM talks to."""
        return self._server

    def _get_credential_kwargs(self, is_async: bool = False) -> dict[str, Any]:
        # The one place the OpenAI class reads the address and key when it makes a client: the child
        # starts here, on the first request, and its address is known only once it runs.
        return {**super()._get_credential_kwargs(is_async), "base_url": self._server.url(),
                "api_key": self._server.key}
