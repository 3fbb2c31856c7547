"""Export e5 and the merged reader to ONNX once, for :mod:`assistant.models.onnx` (prepare time: torch).

Each graph takes token vectors (``inputs_embeds``), not token ids, so the 96M-parameter word table
is stored once, beside them, for both. e5-small is a BERT: its position ids do not depend on
padding, so the graphs compute exactly what the torch models compute from ids. Every export is
checked against torch on real text before it is kept; a graph that disagrees is refused.

Both are also kept with int8 weights (ONNX Runtime's dynamic quantisation, one scale per output
channel, but :func:`feed_forward_outputs` in fp32): their matrix products then run on the CPU's
int8 units (AVX-512 VNNI), faster than torch fp32 for e5 on the texts indexing embeds, and warm
questions faster than with the fp32 reader (how much: docs/precision.md). Each is checked against
its fp32 graph before it is kept.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .onnx import (
    EXPORT_FORMAT,
    MARKER,
    OnnxFiles,
    e5_file,
    is_complete,
    onnx_folder,
    padded,
    pooled,
    reader_file,
    session,
)

#: Largest difference from torch allowed in any output (hidden states, logits), fp32 against fp32.
TOLERANCE = 2e-3

#: Least cosine of an int8 e5 vector to the fp32 graph's on the sample texts: well below what a sound
#: quantisation gives (docs/precision.md), well above a broken one's unrelated vectors.
E5_INT8_MIN_COSINE = 0.99

#: Least correlation of the int8 reader's logits with the fp32 reader's on the sample texts
#: (measured 0.996-0.997; a broken quantisation gives noise).
INT8_MIN_CORRELATION = 0.98
_SAMPLES = ("query: كم عدد المدنيين الذين قتلوا في الاشتباكات؟",
            "passage: The prison in Ghweiran held about 3,500 detainees, according to the SDF.",
            "passage: وقالت قوات سوريا الديمقراطية إن الهجوم بدأ بتفجير سيارة مفخخة قرب بوابة السجن.")


class _FromVectors:
    """``(inputs_embeds, attention_mask) -> outputs`` of a transformers model, for export."""

    @staticmethod
    def wrap(model: Any, outputs: tuple[str, ...]) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model

            def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> tuple:
                out = self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
                return tuple(getattr(out, name) for name in outputs)

        return Wrapped().eval()


def _export(model: Any, outputs: tuple[str, ...], path: Path) -> None:
    import torch

    wrapped = _FromVectors.wrap(model, outputs)
    vectors = torch.zeros((2, 8, model.config.hidden_size))
    mask = torch.ones((2, 8), dtype=torch.long)
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch", 1: "tokens"} for name in outputs})
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation and tracing notices
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, (vectors, mask), str(path), input_names=["inputs_embeds", "attention_mask"],
                          output_names=list(outputs), dynamic_axes=axes, opset_version=17, dynamo=False)


def _sample_inputs(files: OnnxFiles) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The sample texts as a graph's inputs, with their token ids and attention mask."""
    encodings = files.tokenizer.encode_batch(list(_SAMPLES))
    ids, mask = padded([e.ids for e in encodings], files.pad_id)
    return {"inputs_embeds": files.vectors(ids), "attention_mask": mask}, ids, mask


def _check(model: Any, outputs: tuple[str, ...], path: Path, files: OnnxFiles) -> None:
    """Raise when the graph at ``path`` disagrees with ``model`` on the sample texts."""
    import torch

    inputs, ids, mask = _sample_inputs(files)
    got = session(path, keep_optimized=False).run(None, inputs)
    with torch.inference_mode():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    for name, value in zip(outputs, got, strict=True):
        expected = getattr(out, name).float().numpy()
        keep = mask.astype(bool)
        gap = float(np.abs(value[keep] - expected[keep]).max())
        if not gap <= TOLERANCE:
            raise RuntimeError(f"the ONNX export of {path.name} differs from torch by {gap:.2g} in {name}")


def export_e5(e5_folder: Path, model_cache: Path) -> Path:
    """Export e5 (and its word table and tokenizer) once; returns the folder (:func:`onnx_folder`).

    Raises:
        RuntimeError: The export disagrees with torch (then nothing is kept).
    """
    target = onnx_folder(model_cache, e5_folder.name)
    if is_complete(target):
        return target
    from transformers import AutoModel

    from .embeddings import quiet_model_loading

    quiet_model_loading()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        model = AutoModel.from_pretrained(str(e5_folder)).eval()
        np.save(tmp / "embeddings.npy", model.get_input_embeddings().weight.detach().float().numpy())
        shutil.copy2(e5_folder / "tokenizer.json", tmp / "tokenizer.json")
        _export(model, ("last_hidden_state",), tmp / "e5.onnx")
        _check(model, ("last_hidden_state",), tmp / "e5.onnx", OnnxFiles.open(tmp))
        (tmp / MARKER).write_text(json.dumps({"format": EXPORT_FORMAT, "e5": e5_folder.name}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        session(target / "e5.onnx")  # keeps the optimised graph for the first question (see session())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def export_reader(e5_folder: Path, adapter: Path, model_cache: Path) -> Path:
    """Export the reader merged from ``adapter`` (fp32) into e5's ONNX folder once; returns its file
    (:func:`quantize_reader` makes its int8 copy).

    Raises:
        RuntimeError: The adapter changed the word table (the graphs could not share it), or the
            export disagrees with torch.
        ReaderUnavailable: The adapter's files are missing or damaged.
    """
    from .reader import adapter_digest, merged_model

    folder = export_e5(e5_folder, model_cache)
    path = reader_file(folder, adapter_digest(adapter))
    if path.is_file():
        return path
    files = OnnxFiles.open(folder)
    model = merged_model(e5_folder, Path(adapter), "fp32").eval()
    table = model.get_input_embeddings().weight.detach().float().numpy()
    if not np.array_equal(table, files.vectors.table):
        raise RuntimeError(f"the reader adapter {adapter} changes the word embeddings, so it cannot share e5's")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        _export(model, ("start_logits", "end_logits"), partial)
        _check(model, ("start_logits", "end_logits"), partial, files)
        os.replace(partial, path)
        session(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def quantize_reader(folder: Path, digest: str) -> Path:
    """The exported fp32 reader for the adapter ``digest`` with int8 weights (but
    :func:`feed_forward_outputs`), made once beside it; returns its file.

    Raises:
        RuntimeError: The int8 graph's logits do not follow the fp32 graph's (then nothing is kept).
        OSError: The fp32 graph is missing or the folder cannot be written.
    """
    source = reader_file(folder, digest)
    return _quantized(source, reader_file(folder, digest, "int8"), feed_forward_outputs(source),
                      lambda _, partial: _check_int8(source, partial, OnnxFiles.open(folder)))


def quantize_e5(folder: Path) -> Path:
    """e5's exported fp32 graph in ``folder`` with int8 weights (but :func:`feed_forward_outputs`),
    made once beside it; returns its file.

    Raises:
        RuntimeError: The int8 vectors do not follow the fp32 graph's (then nothing is kept).
        OSError: The fp32 graph is missing or the folder cannot be written.
    """
    source = e5_file(folder)
    return _quantized(source, e5_file(folder, "int8"), feed_forward_outputs(source),
                      lambda _, partial: _check_e5_int8(folder, partial))


def feed_forward_outputs(graph_file: Path) -> list[str]:
    """The matrix products int8 leaves in fp32: the second one of each feed-forward block, whose
    input comes out of GELU with a long tail that one int8 scale per tensor cannot hold.

    With them in int8 too, e5 runs a little faster but retrieval and the reader lose more than the
    speed is worth (measured on XQuAD-ar in docs/precision.md).
    """
    import onnx

    graph = onnx.load(str(graph_file), load_external_data=False).graph
    return [node.name for node in graph.node if node.op_type == "MatMul"
            and node.name.endswith("/output/dense/MatMul") and "/attention/" not in node.name]


def _quantized(source: Path, target: Path, kept: list[str], check: Callable[[Path, Path], None]) -> Path:
    """``source`` quantised to int8 weights (but the nodes named in ``kept``) into ``target``, once,
    after ``check(source, partial file)`` passed."""
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # its advice to pre-process applies to static quantisation
    try:
        quantize_dynamic(source, partial, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=kept)
        check(source, partial)
        os.replace(partial, target)
        session(target)
    finally:
        logging.disable(previous)
        partial.unlink(missing_ok=True)
    return target


def _check_e5_int8(folder: Path, int8: Path) -> None:
    """Raise when the int8 graph's sentence vectors stray from the fp32 graph's on the sample texts."""
    inputs, _, mask = _sample_inputs(OnnxFiles.open(folder))
    want = pooled(session(e5_file(folder), keep_optimized=False).run(None, inputs)[0], mask)
    have = pooled(session(int8, keep_optimized=False).run(None, inputs)[0], mask)
    cosine = float((want * have).sum(axis=1).min())
    if not cosine >= E5_INT8_MIN_COSINE:
        raise RuntimeError(f"the int8 copy of {e5_file(folder).name} does not follow it (cosine {cosine:.3f} "
                           f"< {E5_INT8_MIN_COSINE})")


def _check_int8(fp32: Path, int8: Path, files: OnnxFiles) -> None:
    """Raise when the int8 graph's logits do not follow the fp32 graph's on the sample texts."""
    inputs, _, mask = _sample_inputs(files)
    keep = mask.astype(bool)
    expected = session(fp32, keep_optimized=False).run(None, inputs)
    got = session(int8, keep_optimized=False).run(None, inputs)
    for name, want, have in zip(("start_logits", "end_logits"), expected, got, strict=True):
        correlation = float(np.corrcoef(want[keep], have[keep])[0, 1])
        if not correlation >= INT8_MIN_CORRELATION:
            raise RuntimeError(f"the int8 copy of {fp32.name} does not follow it ({name} correlation "
                               f"{correlation:.3f} < {INT8_MIN_CORRELATION})")
