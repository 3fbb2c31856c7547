"""The numeric precision every torch encoder pass runs in: e5 for indexing and questions, and the reader.

``ASSISTANT_PRECISION`` picks one of :data:`PRECISIONS`. On CPUs with bf16 units, bf16 weights run
several times faster than fp32 with nearly the same vectors; int8 dynamic quantisation (``torch.ao``)
is slower than bf16 and less exact (figures in docs/measurements.md, quality in docs/precision.md).

An index remembers the precision its vectors were made in (``Manifest.precision``): fp32 and bf16
vectors are interchangeable (queries in one over an index in the other score the same; see the
docs page), int8 ones are not, and mixing them is refused with the rebuild command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Precisions whose vectors may meet in one index (measured to retrieve the same).
INTERCHANGEABLE = frozenset({"fp32", "bf16"})


@dataclass(frozen=True)
class Precision:
    """The precision a model runs in, and one line when it is not the one asked for (else ``""``)."""

    name: str
    note: str = ""


def runnable(asked: str) -> Precision:
    """The precision this CPU can run for ``asked``: bf16 needs AVX-512 BF16 or AMX (oneDNN says),
    int8 a quantised engine; otherwise fp32, with a note saying so. Never garbage vectors."""
    import torch

    if asked == "bf16" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return Precision("fp32", "This CPU has no bf16 support; the models run in fp32 "
                                 "(set ASSISTANT_PRECISION=fp32 to silence this).")
    if asked == "int8" and not ({"fbgemm", "x86", "onednn"} & set(torch.backends.quantized.supported_engines)):
        return Precision("fp32", "This torch build has no int8 engine; the models run in fp32 "
                                 "(set ASSISTANT_PRECISION=fp32 to silence this).")
    return Precision(asked)


def load_kwargs(precision: str) -> dict[str, Any]:
    """``from_pretrained`` arguments that load weights straight into ``precision`` where that is a
    dtype (bf16); int8 is quantised after an fp32 load (:func:`apply`)."""
    import torch

    return {"dtype": torch.bfloat16} if precision == "bf16" else {}


def apply(model: Any, precision: str) -> Any:
    """``model`` (a torch module, fp32) converted to ``precision`` (one :func:`runnable` returned)."""
    import torch

    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        import warnings

        with warnings.catch_warnings():  # torch.ao's notice that it moves to torchao; it still works
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def mixable(index_precision: str, query_precision: str) -> bool:
    """True when vectors of ``query_precision`` may be searched against, and added to, an index
    whose vectors are ``index_precision`` (one precision, or several joined by ``+``)."""
    held = set(index_precision.split("+"))
    return held == {query_precision} or held | {query_precision} <= INTERCHANGEABLE


def combined(index_precision: str, added: str) -> str:
    """The precision an index holds after vectors of ``added`` join it: ``"bf16+fp32"`` when mixed."""
    return "+".join(sorted(set(index_precision.split("+")) | {added}))
