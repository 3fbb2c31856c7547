"""The trained reader at run time: the packaged encoder, the shipped LoRA adapter and span head.

``load_reader`` builds it (about a second); ``Reader.read`` scores spans of a few passages for one
question and says how strongly it prefers an answer to none. Everything that is not the model (window
decoding, stitching, the no-answer margin) lives in :mod:`.spans`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..precision import apply, load_kwargs, runnable
from .spans import SpanCandidate, Window, best_spans, context_offsets, no_answer_margin, stitch, trim_span

#: The adapter that ships with the package (see its MODEL_CARD.md).
SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "data" / "reader"
RESTORE_HINT = ("restore it with `git checkout -- assistant/data/reader` (or reinstall the package), "
                "or train a new one with `make reader`")


class ReaderUnavailable(ConfigError):
    """The reader's weights are missing or damaged; the message names the file and how to restore it."""


@dataclass(frozen=True)
class ReaderSettings:
    """How the reader windows and decodes passages.

    Attributes:
        max_length: Tokens per window (question included), as in training.
        stride: Tokens shared by consecutive windows of one passage.
        max_answer_tokens: Longest span considered.
        max_windows: Windows read per question at most; passages past them are not read, so a huge
            passage cannot hold a request up.
        batch: Windows per forward pass.
    """

    max_length: int = 256
    stride: int = 96
    max_answer_tokens: int = 24
    max_windows: int = 12
    batch: int = 12


@dataclass(frozen=True)
class Reading:
    """What the reader found in the passages of one question.

    Attributes:
        spans: Distinct spans, best first; offsets into ``passages[span.passage]``.
        null: The lowest no-answer score of the windows read.
        windows: How many windows were read.
        unread: Passages (by index) left unread for the window budget.
    """

    spans: tuple[SpanCandidate, ...]
    null: float
    windows: int
    unread: tuple[int, ...] = ()

    @property
    def margin(self) -> float:
        """Best span score minus the no-answer score (:func:`.spans.no_answer_margin`)."""
        return no_answer_margin(self.spans, [self.null])


class Reader:
    """Reads passages for a question with a span-extraction model (a transformers QA model)."""

    def __init__(self, model: Any, tokenizer: Any, settings: ReaderSettings | None = None,
                 name: str = "reader") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings or ReaderSettings()
        self.name = name
        #: One line about how it runs when that differs from what was asked (bf16 unavailable), or "".
        self.note = ""
        self._lock = threading.Lock()  # one model on two cores: queue concurrent questions

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        """Score spans of ``passages`` (in the order given, best-ranked first) for ``question``."""
        return self.read_pairs([(question, list(passages))])[0]

    def read_pairs(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[Reading]:
        """:meth:`read` for several questions at once (evaluation batches their windows together)."""
        import torch

        s = self.settings
        windows: list[tuple[int, Window]] = []
        ids: list[list[int]] = []
        unread: list[list[int]] = [[] for _ in items]
        for item, (question, passages) in enumerate(items):
            taken = 0
            for p, passage in enumerate(passages):
                if not passage.strip():
                    continue
                if taken >= s.max_windows:
                    unread[item].append(p)
                    continue
                enc = self.tokenizer(question, passage, truncation="only_second", max_length=s.max_length,
                                     stride=s.stride, return_overflowing_tokens=True, return_offsets_mapping=True)
                for w in range(len(enc["input_ids"])):
                    if taken >= s.max_windows:
                        break
                    offsets = context_offsets(enc["offset_mapping"][w], enc.sequence_ids(w))
                    windows.append((item, Window(p, offsets)))
                    ids.append(enc["input_ids"][w])
                    taken += 1
        starts, ends = [], []
        with self._lock, torch.inference_mode():
            for b in range(0, len(ids), s.batch):
                part = ids[b : b + s.batch]
                width = max(len(x) for x in part)
                tensor = torch.full((len(part), width), self.tokenizer.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(part), width), dtype=torch.long)
                for row, x in enumerate(part):
                    tensor[row, : len(x)] = torch.tensor(x)
                    mask[row, : len(x)] = 1
                out = self.model(input_ids=tensor, attention_mask=mask)
                starts += list(out.start_logits.float().numpy())
                ends += list(out.end_logits.float().numpy())
        found: list[list[SpanCandidate]] = [[] for _ in items]
        nulls: list[list[float]] = [[] for _ in items]
        for (item, window), start, end in zip(windows, starts, ends, strict=True):
            spans = best_spans(start, end, window, max_tokens=s.max_answer_tokens)
            nulls[item].append(float(start[0] + end[0]))
            found[item] += spans
        readings = []
        for item, (_question, passages) in enumerate(items):
            trimmed = []
            for c in found[item]:
                a, b = trim_span(passages[c.passage], c.start, c.end)
                if b > a:
                    trimmed.append(replace(c, start=a, end=b))
            readings.append(Reading(tuple(stitch(trimmed)[:20]), min(nulls[item], default=0.0), len(nulls[item]),
                                    tuple(unread[item])))
        return readings


def merged_folder(base_folder: Path, adapter: Path, precision: str = "fp32") -> Path:
    """Where the adapter merged into the base encoder is kept, beside the base: named by the base, a
    hash of the adapter's files (new weights get a new folder) and the dtype it is stored in (bf16
    for bf16, so loading maps half the bytes; fp32 for the rest, int8 quantising after the load)."""
    from .train import ADAPTER_FILES

    digest = hashlib.sha256(b"".join((adapter / name).read_bytes() for name in ADAPTER_FILES)).hexdigest()[:16]
    stored = "bf16" if precision == "bf16" else "fp32"
    return base_folder.parent / f"reader-{base_folder.name}-{digest}-{stored}"


def _merge(base_folder: Path, adapter: Path, keep: Path, precision: str) -> Any:
    """The adapter merged into the fp32 base (exact), in ``precision`` (:func:`~assistant.precision.apply`),
    saved to ``keep`` for the next start when the cache is writable: merging takes seconds (3.4 s on 2
    busy cores), loading the result 0.03 s."""
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


def load_reader(base_folder: Path, adapter: Path = SHIPPED_ADAPTER, settings: ReaderSettings | None = None,
                precision: str = "fp32") -> Reader:
    """The packaged encoder with the adapter applied (merged into its weights for speed).

    Args:
        base_folder: The converted multilingual-e5-small folder (``model_prep.prepare_e5_folder``).
        adapter: A folder holding ``adapter_config.json`` and ``adapter_model.safetensors``.
        settings: Windowing and decoding.
        precision: ``fp32``, ``bf16`` (bf16 weights: AMX / AVX-512 BF16 on this CPU, about 2.5 times
            faster at the same F1) or ``int8``; a CPU that cannot runs fp32, and :attr:`Reader.note` says so.

    Raises:
        ReaderUnavailable: A weights file is missing or damaged (one line naming it and the fix).
    """
    from .train import ADAPTER_FILES

    adapter = Path(adapter)
    for name in ADAPTER_FILES:
        if not (adapter / name).is_file():
            raise ReaderUnavailable(f"The reader's weights file {adapter / name} is missing; {RESTORE_HINT}.")
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    from ..embeddings import quiet_model_loading

    quiet_model_loading()
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # the fresh qa_outputs head is replaced by the adapter's
    runs = runnable(precision)
    merged = merged_folder(Path(base_folder), adapter, runs.name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_folder))
        model = None
        if (merged / "config.json").is_file():
            try:
                model = AutoModelForQuestionAnswering.from_pretrained(str(merged), **load_kwargs(runs.name))
            except Exception:  # noqa: BLE001 - a damaged cache is rebuilt from the adapter below
                shutil.rmtree(merged, ignore_errors=True)
        if model is None:
            model = _merge(Path(base_folder), adapter, merged, runs.name)
    except Exception as error:  # safetensors, JSON and peft each raise their own kinds for a bad file
        raise ReaderUnavailable(
            f"The reader's weights in {adapter} could not be loaded ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:160] if str(error) else 'damaged file'}); {RESTORE_HINT}.") from None
    finally:
        transformers_logging.set_verbosity(verbosity)
    reader = Reader(model, tokenizer, settings, name=adapter.name)
    reader.model, reader.note = apply(model, runs.name), runs.note
    return reader
