"""Every fenced Python and shell block of the README is tested.

Fast: every Python block compiles, every shell block is valid bash, and every command line in it
names a real command: ``assistant`` subcommands and options exist in the CLI's parser, ``app.py``
options in the web chat's, ``make`` targets in the Makefile. Slow: the Python blocks run as written
in a fresh folder (the Evaluating block continues the Python section's session; the web API block
asks a served chat, at the port this test picked), and the shell lines that finish on their own
with local data run as written.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    section: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.lang}@{self.line}"


def readme_blocks() -> list[Block]:
    """The fenced ``python``, ``bash`` and ``sh`` blocks of the README, with the section each sits in."""
    blocks, section, lines = [], "", README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = re.fullmatch(r"```(\w*)\s*", line)
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if fence.group(1) in ("python", "bash", "sh"):
                blocks.append(Block(fence.group(1), i + 1, section, "\n".join(lines[i + 1:end]) + "\n"))
            i = end
        i += 1
    return blocks


BLOCKS = readme_blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python"]
SHELL = [b for b in BLOCKS if b.lang in ("bash", "sh")]


def command_lines(block: Block) -> list[list[str]]:
    """Each command of a shell block as words, without comments, ``export`` and leading ``VAR=value``."""
    commands = []
    for raw in block.code.replace("\\\n", " ").splitlines():
        for inner in re.findall(r"\$\(([^)]*)\)", raw):  # a command substitution is a command too
            commands += command_lines(Block(block.lang, block.line, block.section, inner))
        raw = re.sub(r"\$\([^)]*\)", "VALUE", raw)
        words = shlex.split(raw, comments=True)
        for part in _split_on(words, {"&&", ";", "||"}):
            if part and part[0] == "export":
                continue
            while part and re.fullmatch(r"[A-Z_]+=.*", part[0]):
                part = part[1:]
            if part:
                commands.append(part)
    return commands


def _split_on(words: list[str], separators: set[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        if word in separators:
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def _options(parser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def check_command(words: list[str]) -> None:
    """Fail unless the command names something real (a subcommand, its options, a make target)."""
    from assistant.ui.cli import build_parser
    from assistant.ui.web import build_arg_parser

    program = Path(words[0]).name
    if program == "assistant":
        subparsers = next(a for a in build_parser()._actions if a.dest == "command").choices
        assert words[1] in subparsers, f"`assistant {words[1]}` is not a command"
        known = _options(subparsers[words[1]])
        for word in words[2:]:
            option = word.strip("[]").split("=")[0]
            if option.startswith("--"):
                assert option in known, f"`assistant {words[1]}` has no option {option}"
    elif program == "make":
        targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
        for target in words[1:]:
            assert target in targets, f"the Makefile has no target {target}"
    elif program.startswith("python") and words[1:2] == ["app.py"]:
        known = _options(build_arg_parser())
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"app.py has no option {word}"
    else:
        assert program in ("pip", "chroma"), f"unexpected command in the README: {' '.join(words)}"


@pytest.mark.parametrize("block", PYTHON, ids=[b.name for b in PYTHON])
def test_python_blocks_compile(block: Block) -> None:
    compile(block.code, f"README.md:{block.line}", "exec")


@pytest.mark.parametrize("block", SHELL, ids=[b.name for b in SHELL])
def test_shell_blocks_name_real_commands(block: Block) -> None:
    syntax = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    for words in command_lines(block):
        check_command(words)


def test_the_layout_section_names_every_module() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Layout")
    end = text.find("\n## ", start + 1)
    layout = text[start:end if end > 0 else len(text)]
    modules = sorted(p for p in (ROOT / "assistant").rglob("*.py") if p.stem not in ("__init__", "__main__"))
    missing = [str(p.relative_to(ROOT)) for p in modules if not re.search(rf"\b{re.escape(p.stem)}\b", layout)]
    assert not missing, f"the README's layout section does not name {missing}"


def test_the_readme_has_the_blocks_these_tests_run() -> None:
    sections = {b.section for b in PYTHON}
    assert {"Python", "The web chat", "Evaluating"} <= sections, sections
    assert RUNNABLE_SHELL <= {" ".join(shlex.quote(w) for w in c) for b in SHELL for c in command_lines(b)}


# -- running them ------------------------------------------------------------------------------------

#: Shell lines that finish on their own with local data, run as written (in this order). The others
#: serve until stopped (make run, app.py, chroma run), need a service or model that is not here (an
#: LLM, a reranker folder, XQuAD), or run the whole suite (make test); their commands are checked above.
RUNNABLE_SHELL = {
    ".venv/bin/assistant index corpus/",
    ".venv/bin/assistant ask 'من هو القائد العام لقسد؟'",
    "assistant eval --calibrate",
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_PROGRESS": "0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _folder(tmp_path: Path) -> Path:
    """A fresh folder holding a copy of the corpus, and ``.venv`` standing for the environment running the tests."""
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return tmp_path


@pytest.mark.slow
def test_the_python_and_evaluating_sections_run_as_written(tmp_path):
    """The Python section, then the Evaluating section's Python block in the same session (it uses ``bot``)."""
    folder = _folder(tmp_path)
    python = next(b for b in PYTHON if b.section == "Python")
    evaluating = next(b for b in PYTHON if b.section == "Evaluating")
    (folder / "example.py").write_text(python.code + evaluating.code, encoding="utf-8")
    done = subprocess.run([sys.executable, "example.py"], cwd=folder, env=_env(), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "سبعة" in done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_web_api_block_runs_against_a_served_chat(tmp_path):
    folder = _folder(tmp_path)
    block = next(b for b in PYTHON if b.section == "The web chat")
    port = _free_port()
    code = block.code.replace("http://127.0.0.1:7860/", f"http://127.0.0.1:{port}/")
    assert code != block.code, "the web API block no longer names http://127.0.0.1:7860/"
    (folder / "client.py").write_text(code, encoding="utf-8")
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=folder, env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, server.stderr.read()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the web chat did not come up"
                time.sleep(1)
        done = subprocess.run([sys.executable, "client.py"], cwd=folder, env=_env(), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "ghweiran-prison.txt" in done.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_the_shell_lines_that_finish_run_as_written(tmp_path):
    folder = _folder(tmp_path)
    lines = [" ".join(shlex.quote(w) for w in c) for b in SHELL for c in command_lines(b)]
    for line in sorted(RUNNABLE_SHELL, key=lines.index):
        done = subprocess.run(line, shell=True, cwd=folder, env=_env(), capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{line}\n{done.stderr[-3000:]}"
        if " ask " in line:
            assert "[1]" in done.stdout, done.stdout
