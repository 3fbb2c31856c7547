"""The trained reader's weights: where the shipped adapter lives, its files and their hash, and the
adapter merged into the packaged encoder (cached beside it), as a span model.

What reads with them (windows, decoding, the no-answer margin) is :mod:`assistant.answer.reader`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError
from .precision import apply, load_kwargs

#: The adapter that ships with the package (see its MODEL_CARD.md).
SHIPPED_ADAPTER = Path(__file__).resolve().parents[1] / "data" / "reader"
RESTORE_HINT = ("restore it with `git checkout -- assistant/data/reader` (or reinstall the package), "
                "or train a new one with `make reader`")


class ReaderUnavailable(ConfigError):
    """The reader's weights are missing or damaged; the message names the file and how to restore it."""


#: Names of the files inside the shipped adapter folder.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


class SpanLogits(Protocol):
    """A span model: padded token ids and their mask -> start and end logits, one row per window."""

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class TorchSpanLogits:
    """A transformers question-answering model as :class:`SpanLogits`."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()


def check_adapter(adapter: Path) -> None:
    """Raise :class:`ReaderUnavailable` naming the first of the adapter's files that is missing."""
    for name in ADAPTER_FILES:
        if not (adapter / name).is_file():
            raise ReaderUnavailable(f"The reader's weights file {adapter / name} is missing; {RESTORE_HINT}.")


def adapter_digest(adapter: Path) -> str:
    """A short hash of an adapter's files: the name of everything derived from them."""
    return hashlib.sha256(b"".join((Path(adapter) / name).read_bytes() for name in ADAPTER_FILES)).hexdigest()[:16]


def merged_folder(base_folder: Path, adapter: Path, precision: str = "fp32") -> Path:
    """Where the adapter merged into the base encoder is kept, beside the base: named by the base, a
    hash of the adapter's files (new weights get a new folder) and the dtype it is stored in (bf16
    for bf16, so loading maps half the bytes; fp32 for the rest, int8 quantising after the load)."""
    digest = adapter_digest(adapter)
    stored = "bf16" if precision == "bf16" else "fp32"
    return base_folder.parent / f"reader-{base_folder.name}-{digest}-{stored}"


def _merge(base_folder: Path, adapter: Path, keep: Path, precision: str) -> Any:
    """The adapter merged into the fp32 base (exact), in ``precision`` (:func:`~assistant.models.precision.apply`),
    saved to ``keep`` for the next start when the cache is writable: merging takes seconds, loading
    the result a small fraction of that."""
    from peft import PeftModel
    from transformers import AutoModelForQuestionAnswering

    base = AutoModelForQuestionAnswering.from_pretrained(str(base_folder))
    with warnings.catch_warnings():  # peft asks transformers a deprecated question; not the user's concern
        warnings.simplefilter("ignore", FutureWarning)
        model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    if precision == "bf16":
        model = apply(model, precision)
    partial: Path | None = None
    try:
        partial = Path(tempfile.mkdtemp(prefix=f".{keep.name}-", dir=keep.parent))
        model.save_pretrained(str(partial))
        partial.chmod(0o755)
        os.replace(partial, keep)  # whole or not at all; another process may have won the race
    except OSError:  # a read-only cache, or the race lost: merge again next time, or use the winner's
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
    return model


def merged_model(base_folder: Path, adapter: Path, precision: str) -> Any:
    """The base encoder with ``adapter`` merged in, stored in ``precision``'s dtype: loaded from the
    model cache, or merged there once.

    Raises:
        ReaderUnavailable: A weights file is missing or damaged (one line naming it and the fix).
    """

    check_adapter(adapter)
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging as transformers_logging

    from .embeddings import quiet_model_loading

    quiet_model_loading()
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # the fresh qa_outputs head is replaced by the adapter's
    merged = merged_folder(base_folder, adapter, precision)
    try:
        model = None
        if (merged / "config.json").is_file():
            try:
                model = AutoModelForQuestionAnswering.from_pretrained(str(merged), **load_kwargs(precision))
            except Exception:  # noqa: BLE001 - a damaged cache is rebuilt from the adapter below
                shutil.rmtree(merged, ignore_errors=True)
        if model is None:
            model = _merge(base_folder, adapter, merged, precision)
    except Exception as error:  # safetensors, JSON and peft each raise their own kinds for a bad file
        raise ReaderUnavailable(
            f"The reader's weights in {adapter} could not be loaded ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:160] if str(error) else 'damaged file'}); {RESTORE_HINT}.") from None
    finally:
        transformers_logging.set_verbosity(verbosity)
    return model
