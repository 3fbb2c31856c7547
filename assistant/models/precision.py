"""The numeric precision the encoder passes run in: e5 for indexing and questions, and the reader.

``ASSISTANT_PRECISION`` picks one of ``fp32``, ``bf16`` or ``int8`` (the default):

- ``int8`` runs e5's indexing on ONNX Runtime with int8 weights (AVX-512 VNNI), the fastest here,
  with vectors close to fp32's. torch has no int8 that keeps quality (``torch.ao`` dynamic
  quantisation moves the vectors further and runs slower than bf16), so whatever runs on torch
  (``ASSISTANT_RUNTIME=torch``, the reader without its ONNX copy, another embedding model) runs in
  bf16 under ``int8``, and says so;
- ``bf16`` runs torch in bf16 weights on CPUs with bf16 units (faster than fp32), fp32 elsewhere;
- ``fp32`` is the reference.

Every figure is in docs/precision.md. An index remembers the precision its vectors were made in
(``Manifest.precision``): all three were measured to retrieve the same on XQuAD-ar (questions in
fp32 over an index in another, docs/precision.md), so they mix; an index holding
anything else (a precision this version does not know) is refused with the rebuild command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Precisions whose vectors may meet in one index (measured to retrieve the same).
INTERCHANGEABLE = frozenset({"fp32", "bf16", "int8"})


@dataclass(frozen=True)
class Precision:
    """The precision a model runs in, and one line when it is not the one asked for (else ``""``)."""

    name: str
    note: str = ""


def runnable(asked: str) -> Precision:
    """The precision torch can run for ``asked`` on this CPU: bf16 needs AVX-512 BF16 or AMX (oneDNN
    says); int8 runs only on ONNX Runtime (:mod:`assistant.models.onnx`), so torch runs it in
    bf16 where it can. Otherwise fp32, with a note saying so. Never garbage vectors."""
    import torch

    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    if asked == "int8":
        return Precision("bf16" if bf16 else "fp32",
                         f"int8 runs on ONNX Runtime only; what runs on torch runs in {'bf16' if bf16 else 'fp32'} "
                         "(run `assistant prepare` with ASSISTANT_RUNTIME=onnx for int8 indexing).")
    if asked == "bf16" and not bf16:
        return Precision("fp32", "This CPU has no bf16 support; the models run in fp32 "
                                 "(set ASSISTANT_PRECISION=fp32 to silence this).")
    return Precision(asked)


def load_kwargs(precision: str) -> dict[str, Any]:
    """``from_pretrained`` arguments that load weights straight into ``precision`` (one
    :func:`runnable` returned) where that is a dtype (bf16)."""
    import torch

    return {"dtype": torch.bfloat16} if precision == "bf16" else {}


def apply(model: Any, precision: str) -> Any:
    """``model`` (a torch module) converted to ``precision`` (one :func:`runnable` returned)."""
    import torch

    return model.to(torch.bfloat16) if precision == "bf16" else model


def mixable(index_precision: str, query_precision: str) -> bool:
    """True when vectors of ``query_precision`` may be searched against, and added to, an index
    whose vectors are ``index_precision`` (one precision, or several joined by ``+``)."""
    held = set(index_precision.split("+"))
    return held == {query_precision} or held | {query_precision} <= INTERCHANGEABLE


def combined(index_precision: str, added: str) -> str:
    """The precision an index holds after vectors of ``added`` join it: ``"bf16+fp32"`` when mixed."""
    return "+".join(sorted(set(index_precision.split("+")) | {added}))
