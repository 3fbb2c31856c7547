"""The built wheel, installed (not editable) into a fresh environment, answers from another folder.

The wheel is built offline from a copy of the sources and installed without its dependencies into
a new venv; a ``.pth`` file lends it the dependencies of the environment running the tests (no
registry is reached). Then, from a folder that holds only a corpus: ``assistant prepare``,
``assistant index``, ``assistant ask`` and ``assistant serve`` (until its port answers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "ghweiran-prison.txt"

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the wheel (its ``bin/``), with the test environment's packages lent by a ``.pth``."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "assistant", source / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", base / "dist", source], base, env)
    wheel = next((base / "dist").glob("assistant-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], base, env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         base, env)
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env).strip()
    Path(site, "lent-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with only a corpus in it, and an environment that cannot see the source tree."""
    (tmp_path / "corpus").mkdir()
    shutil.copy(ARTICLE, tmp_path / "corpus" / ARTICLE.name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ASSISTANT_PROGRESS"] = "0"
    return tmp_path, env


def test_the_wheel_holds_the_package_and_its_data(installed: Path, elsewhere) -> None:
    folder, env = elsewhere
    where = _run([installed / "python", "-c", "import assistant; print(assistant.__file__)"], folder, env)
    assert where.startswith(str(installed.parent)), where
    names = _run([installed / "python", "-c", "from assistant.answer.prompts.loader import load_extractive; "
                  "print(sorted(load_extractive()))"], folder, env)
    assert "ar" in names and "en" in names


def test_prepare_index_ask_and_serve_from_another_folder(installed: Path, elsewhere) -> None:
    folder, env = elsewhere
    assistant = installed / "assistant"
    _run([assistant, "prepare"], folder, env)
    assert "1 added" in _run([assistant, "index", "corpus", "--index-dir", "idx"], folder, env)
    answer = _run([assistant, "ask", "كم عدد المدنيين الذين قتلوا؟", "--index-dir", "idx"], folder, env)
    assert "سبعة" in answer and "[1]" in answer
    port = _free_port()
    server = subprocess.Popen([str(assistant), "serve", "--index-dir", "idx", "--port", str(port)], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, server.stderr.read()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "assistant serve did not answer"
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
