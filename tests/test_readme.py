"""The README's Python example runs as written (in a fresh folder holding a copy of the corpus)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_the_python_section_runs_as_written(tmp_path):
    blocks = python_blocks("Python")
    assert blocks, "the README lost its Python example"
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    (tmp_path / "example.py").write_text(blocks[0], encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "سبعة" in done.stdout
