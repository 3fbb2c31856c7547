"""The character model that spells Arabic names never seen before in Latin letters (layer 3 of
:mod:`assistant.text.names`): a small encoder-decoder transformer over letters, trained here
(``make translit``, :mod:`.train_transliterator`), shipped as int8 weights with a model card.

torch is imported only when a model is built or loaded, never at import time.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..text.names import ARABIC_LETTERS, KnownSpellings, NameRenderer, fold_name

if TYPE_CHECKING:
    import torch

#: Where the shipped model lives (package data).
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "translit"
WEIGHTS = "transliterator.safetensors"
CONFIG = "transliterator.json"
#: The known spellings (layer 1 of :mod:`assistant.text.names`), beside the model.
KNOWN = "known-spellings.tsv.gz"
PAD, BOS, EOS = 0, 1, 2
TARGET_LETTERS = "abcdefghijklmnopqrstuvwxyz'-"
MAX_FORM = 24
MAX_SPELLING = 32


@dataclass(frozen=True)
class ModelShape:
    """The transformer's size; recorded beside the weights."""

    d_model: int = 256
    heads: int = 4
    encoder_layers: int = 3
    decoder_layers: int = 2
    feed_forward: int = 512
    dropout: float = 0.1


def encode_form(form: str) -> list[int]:
    """Letter ids of a folded Arabic form (3 + position in :data:`ARABIC_LETTERS`), ended by EOS."""
    return [3 + ARABIC_LETTERS.index(c) for c in form[:MAX_FORM] if c in ARABIC_LETTERS] + [EOS]


def encode_spelling(spelling: str) -> list[int]:
    """Letter ids of a lower-case spelling, started by BOS and ended by EOS."""
    return [BOS] + [3 + TARGET_LETTERS.index(c) for c in spelling[:MAX_SPELLING] if c in TARGET_LETTERS] + [EOS]


def decode_spelling(ids: list[int]) -> str:
    """The spelling of generated letter ids (up to the first EOS)."""
    out = []
    for i in ids:
        if i == EOS:
            break
        if i >= 3:
            out.append(TARGET_LETTERS[i - 3])
    return "".join(out)


def build(shape: ModelShape) -> torch.nn.Module:
    """A fresh model of ``shape``."""
    import torch
    from torch import nn

    class CharTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            d = shape.d_model
            self.shape = shape
            self.source = nn.Embedding(3 + len(ARABIC_LETTERS), d, padding_idx=PAD)
            self.target = nn.Embedding(3 + len(TARGET_LETTERS), d, padding_idx=PAD)
            self.position = nn.Embedding(max(MAX_FORM, MAX_SPELLING) + 2, d)
            with warnings.catch_warnings():  # "enable_nested_tensor ... norm_first": a note, not a problem
                warnings.simplefilter("ignore", UserWarning)
                self.transformer = nn.Transformer(d, shape.heads, shape.encoder_layers, shape.decoder_layers,
                                                  shape.feed_forward, shape.dropout, batch_first=True,
                                                  norm_first=True)
            self.out = nn.Linear(d, 3 + len(TARGET_LETTERS))

        def _embed(self, table: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
            positions = torch.arange(ids.shape[1], device=ids.device)
            return table(ids) * math.sqrt(self.shape.d_model) + self.position(positions)[None]

        def encode(self, source: torch.Tensor) -> torch.Tensor:
            return self.transformer.encoder(self._embed(self.source, source), src_key_padding_mask=source == PAD)

        def decode(self, memory: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            causal = nn.Transformer.generate_square_subsequent_mask(target.shape[1], device=target.device,
                                                                    dtype=torch.bool)
            hidden = self.transformer.decoder(self._embed(self.target, target), memory, tgt_mask=causal,
                                              tgt_is_causal=True, tgt_key_padding_mask=target == PAD,
                                              memory_key_padding_mask=source == PAD)
            return self.out(hidden)

        def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return self.decode(self.encode(source), source, target)

    return CharTransformer()


def pad(rows: list[list[int]]) -> torch.Tensor:
    """Rows of ids as one PAD-filled tensor."""
    import torch

    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)


def greedy(model: torch.nn.Module, forms: list[str], batch: int = 256) -> list[str]:
    """The model's spelling of each folded form, one letter at a time (the likeliest each time)."""
    import torch

    model.eval()
    spelled: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(forms), batch):
            chunk = forms[start:start + batch]
            source = pad([encode_form(f) for f in chunk])
            memory = model.encode(source)
            ys = torch.full((len(chunk), 1), BOS, dtype=torch.long)
            done = torch.zeros(len(chunk), dtype=torch.bool)
            for _ in range(MAX_SPELLING + 1):
                step = model.decode(memory, source, ys)[:, -1].argmax(-1)
                step = torch.where(done, torch.full_like(step, EOS), step)
                ys = torch.cat([ys, step[:, None]], dim=1)
                done |= step == EOS
                if bool(done.all()):
                    break
            spelled.extend(decode_spelling(row[1:]) for row in ys.tolist())
    return spelled


def save_int8(model: torch.nn.Module, folder: Path, card: dict[str, Any]) -> None:
    """The weights as int8 with one fp16 scale per row (matrices) or fp16 (the rest), and the shape
    and ``card`` facts in a JSON file beside them."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name, value in model.state_dict().items():
        value = value.detach().float()
        if value.dim() == 2 and value.numel() >= 4096:
            scale = value.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127
            tensors[name + ".q"] = torch.round(value / scale).to(torch.int8).contiguous()
            tensors[name + ".scale"] = scale.half().contiguous()
        else:
            tensors[name] = value.half().contiguous()
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS))
    shape = model.shape  # type: ignore[attr-defined]
    (folder / CONFIG).write_text(json.dumps({"shape": asdict(shape), **card}, indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")


def load(folder: Path = SHIPPED) -> torch.nn.Module | None:
    """The model saved in ``folder`` by :func:`save_int8`, in fp32 for inference; ``None`` when there is none."""
    if not (folder / WEIGHTS).is_file() or not (folder / CONFIG).is_file():
        return None
    from safetensors.torch import load_file

    config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    model = build(ModelShape(**config["shape"]))
    stored = load_file(str(folder / WEIGHTS))
    state = {}
    for name in model.state_dict():
        if name + ".q" in stored:
            state[name] = stored[name + ".q"].float() * stored[name + ".scale"].float()
        else:
            state[name] = stored[name].float()
    model.load_state_dict(state)
    model.eval()
    return model


class Transliterator:
    """A loaded model as a :data:`assistant.text.names.Guesser`: folded form -> spelling, memoised."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._model = model
        self._seen: dict[str, str] = {}

    def __call__(self, form: str) -> str:
        form = fold_name(form)
        if not form:
            return ""
        if form not in self._seen:
            self._seen[form] = greedy(self._model, [form])[0]
        return self._seen[form]


def load_name_renderer(folder: Path = SHIPPED) -> NameRenderer:
    """The name renderer with the shipped known spellings and, when its weights are there, the model
    (loaded on the first unseen name, so that a question without one never imports torch)."""
    known = KnownSpellings.read(folder / KNOWN) if (folder / KNOWN).is_file() else KnownSpellings({})
    return NameRenderer(known, _LazyModel(folder) if (folder / WEIGHTS).is_file() else None)


class _LazyModel:
    """A :class:`Transliterator` loaded on first call; an unreadable model leaves the letter table to it."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._model: Transliterator | None = None
        self._failed = False

    def __call__(self, form: str) -> str:
        if self._model is None and not self._failed:
            try:
                model = load(self._folder)
            except (OSError, ValueError, KeyError, RuntimeError):
                model = None
            self._failed = model is None
            self._model = Transliterator(model) if model is not None else None
        return self._model(form) if self._model is not None else ""
