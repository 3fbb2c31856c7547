"""Local GGUF models (``ASSISTANT_LLM=gguf:``): the checks before loading, the child process's life
(through a fake child that speaks the same protocol, ``fake_gguf_child.py``), and bad files ending
in one line and the extractive answer, through the real pipeline. No real model is needed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant import Settings
from assistant.llm.backends import build_llm, parse_llm_spec, stream_reply
from assistant.llm.failure import LLMFailure
from assistant.llm.gguf import (
    MEMORY_HEADROOM,
    LocalGGUF,
    LocalServer,
    ServerConfig,
    available_memory,
    check_gguf,
    failure_line,
    server_for,
)

FAKE_CHILD = Path(__file__).resolve().parent / "fake_gguf_child.py"
ROOT = Path(__file__).resolve().parent.parent


def _messages():
    from llama_index.core.llms import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole.USER, content="How many?")]


def _model(folder: Path, script: dict, name: str = "tiny.gguf") -> Path:
    path = folder / name
    path.write_bytes(b"GGUF" + json.dumps(script).encode())
    return path


def _fake_server(path: Path) -> LocalServer:
    return LocalServer(ServerConfig(path, command=(sys.executable, str(FAKE_CHILD))), start_timeout=30)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


# -- names and checks (pure) ------------------------------------------------------------------------

def test_gguf_and_its_llamacpp_alias_name_the_same_backend() -> None:
    assert parse_llm_spec("gguf:/m/a.gguf") == parse_llm_spec("llamacpp:/m/a.gguf")
    assert str(parse_llm_spec("llamacpp:/m/a.gguf")) == "gguf:/m/a.gguf"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LLMFailure) as caught:
        check_gguf(tmp_path / "nothing.gguf", available=10**12)
    assert caught.value.kind == "gguf_missing" and "nothing.gguf" in caught.value.detail


@pytest.mark.parametrize("content", [b"PK\x03\x04 a zip, not a model", b"GGU", b""])
def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(LLMFailure) as caught:
        check_gguf(path, available=10**12)
    assert caught.value.kind == "gguf_invalid"


def test_a_model_bigger_than_memory_is_refused_with_both_sizes(tmp_path: Path) -> None:
    path = _model(tmp_path, {})
    size = path.stat().st_size
    assert check_gguf(path, available=size + MEMORY_HEADROOM) == size
    with pytest.raises(LLMFailure) as caught:
        check_gguf(path, available=size + MEMORY_HEADROOM - 1)
    assert caught.value.kind == "gguf_too_big" and caught.value.detail == "0.5 GB > 0.5 GB"
    assert check_gguf(path, available=None) == size  # memory unknown: not refused


def test_available_memory_reads_meminfo_and_a_cgroup_limit(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000000 kB\nMemFree:  100 kB\nMemAvailable:    4000000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert available_memory(meminfo, cgroup) == 4_000_000 * 1024
    (cgroup / "memory.max").write_text("3000000000\n")
    (cgroup / "memory.current").write_text("1000000000\n")
    assert available_memory(meminfo, cgroup) == 2_000_000_000
    (cgroup / "memory.max").write_text("max\n")
    assert available_memory(meminfo, cgroup) == 4_000_000 * 1024
    assert available_memory() is None or available_memory() > 0


def test_the_failure_line_is_llamas_first_error() -> None:
    log = ["0.00.003.056 I srv          init: loading model",
           "0.00.003.170 E gguf_init_from_reader: this GGUF file is version 786867085 but this software only "
           "supports up to version 3",
           "0.00.003.576 E llama_model_load: error loading model",
           "error: xllamacpp could not load x.gguf: Failed to init server"]
    assert failure_line(log).startswith("gguf_init_from_reader: this GGUF file is version")
    assert failure_line(["Traceback", "ModuleNotFoundError: No module named 'xllamacpp'"]).startswith("ModuleNotFound")
    assert failure_line([]) == "the process exited without a message"


@pytest.mark.slow
def test_one_server_per_model_file_per_process(tmp_path: Path) -> None:
    path = _model(tmp_path, {})
    first = build_llm(Settings(llm=f"gguf:{path}"))
    second = build_llm(Settings(llm=f"llamacpp:{tmp_path}/../{tmp_path.name}/tiny.gguf", llm_timeout=3))
    assert isinstance(first, LocalGGUF) and first.server is second.server
    assert first.server.pid is None  # nothing starts before the first question
    assert server_for(ServerConfig(path.resolve())) is first.server


# -- the child process, through the fake child -----------------------------------------------------

@pytest.mark.slow
def test_the_child_starts_on_first_use_serves_with_its_key_and_stops_cleanly(tmp_path: Path) -> None:
    path = _model(tmp_path, {"reply": "Seven civilians were killed [1]."})
    server = _fake_server(path)
    llm = LocalGGUF(server, model="tiny.gguf", timeout=10)
    assert server.pid is None
    assert "".join(stream_reply(llm, _messages(), timeout=10)) == "Seven civilians were killed [1]."
    pid = server.pid
    assert "".join(stream_reply(llm, _messages(), timeout=10)) == "Seven civilians were killed [1]."
    assert server.pid == pid and len(Path(f"{path}.starts").read_text().split()) == 1
    server.stop()
    assert _gone(pid)
    assert Path(f"{path}.stopped").read_text() == "2 requests, 0 without the key\n"


@pytest.mark.slow
def test_a_child_that_cannot_load_says_why_once(tmp_path: Path) -> None:
    path = _model(tmp_path, {"fail": "error loading model: unknown model architecture: 'qwen9'"})
    llm = LocalGGUF(_fake_server(path), model="tiny.gguf", timeout=10)
    for _ in range(2):
        with pytest.raises(LLMFailure) as caught:
            list(stream_reply(llm, _messages(), timeout=10))
        assert caught.value.kind == "unavailable"
        assert "tiny.gguf" in caught.value.detail and "unknown model architecture" in caught.value.detail
    assert len(Path(f"{path}.starts").read_text().split()) == 1  # not retried until the file changes


@pytest.mark.slow
def test_a_child_that_died_is_started_again(tmp_path: Path) -> None:
    path = _model(tmp_path, {"reply": "ok [1]"})
    server = _fake_server(path)
    first = server.url()
    pid = server.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.pid is not None and time.monotonic() < deadline:  # pid polls (and reaps) the child
        time.sleep(0.05)
    second = server.url()
    assert server.pid not in (None, pid) and first != second
    server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["return", "sigkill"])
def test_the_child_goes_when_the_parent_process_ends(tmp_path: Path, ending: str) -> None:
    path = _model(tmp_path, {"reply": "ok [1]"})
    script = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from assistant.llm.gguf import ServerConfig, server_for
        server = server_for(ServerConfig(Path({str(path)!r}), command=(sys.executable, {str(FAKE_CHILD)!r})))
        server.url()
        print(server.pid, flush=True)
        if {ending!r} == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    child = int(done.stdout.split()[0])
    assert _gone(child), f"the child {child} outlived its parent ({ending})"
    if ending == "return":  # stopped through atexit: its input closed, it wrote its note
        assert Path(f"{path}.stopped").is_file()


# -- bad files through the whole pipeline: one line, then the extractive answer -------------------

@pytest.fixture
def gguf_bot(bot):
    from assistant import Assistant

    def make(path: Path) -> Assistant:
        return Assistant(bot.settings.replace(llm=f"gguf:{path}"), embedder=bot.parts.embedder,
                         second_embedder=bot.parts.encoders.second)

    return make


def _bad_file(kind: str, folder: Path) -> Path:
    if kind == "gguf_missing":
        return folder / "no-such-model.gguf"
    path = folder / f"{kind}.gguf"
    if kind == "gguf_invalid":
        path.write_bytes(b"<!DOCTYPE html><title>404</title>")  # a download that went wrong
    else:
        path.write_bytes(b"GGUF")
        with path.open("r+b") as handle:  # sparse: as big as it says, without using the disk
            handle.truncate((available_memory() or 2**40) + 2**30)
    return path


@pytest.mark.parametrize(("kind", "words"), [
    ("gguf_missing", "There is no GGUF model file at"),
    ("gguf_invalid", "is not a GGUF model"),
    ("gguf_too_big", "needs more memory than is available"),
])
def test_a_bad_model_file_gives_one_line_then_the_extractive_answer(gguf_bot, tmp_path: Path, kind: str,
                                                                     words: str) -> None:
    path = _bad_file(kind, tmp_path)
    assistant = gguf_bot(path)
    answer = assistant.ask("How many civilians were killed?")
    message, _, rest = answer.text.partition("\n\n")
    assert words in message and str(path) in message and "\n" not in message
    assert "ASSISTANT_LLM" in message or "memory" in message  # what to do about it
    assert answer.mode == "extractive" and answer.grounded and "7" in rest
    assert any(kind in note for note in answer.notes)
    extractive = assistant.ask("How many civilians were killed?", mode="extractive")
    assert rest == extractive.text


def test_the_line_is_in_the_question_language(gguf_bot, tmp_path: Path) -> None:
    answer = gguf_bot(_bad_file("gguf_invalid", tmp_path)).ask("كم عدد المدنيين الذين قتلوا؟")
    assert answer.text.startswith("الملف ") and "ليس نموذج GGUF" in answer.text.split("\n\n")[0]
