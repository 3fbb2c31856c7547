"""The code passes the project's ruff rules (pyproject.toml), so style drift fails CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed; `pip install -e .[test]` installs it")
    result = subprocess.run([ruff, "check", "--output-format", "concise", "assistant", "tests", "benchmarks", "app.py"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
