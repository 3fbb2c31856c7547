"""ASSISTANT_PRECISION: which precisions may meet in one index, and the real e5 in each precision."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import ConfigError, Settings
from assistant.models.precision import combined, mixable, runnable

TEXTS = ["query: كم عدد المدنيين الذين قتلوا؟", "passage: The lighthouse of Port Amsel was built in 1847.",
         "passage: وأدت الاشتباكات إلى مقتل 136 شخصاً على الأقل."]


def test_fp32_bf16_and_int8_vectors_mix_and_unknown_ones_do_not() -> None:
    assert mixable("fp32", "bf16") and mixable("bf16", "fp32") and mixable("bf16+fp32", "fp32")
    assert mixable("int8", "int8") and mixable("int8", "fp32") and mixable("bf16+fp32", "int8")
    assert not mixable("fp16", "fp32") and not mixable("fp32+fp16", "fp32") and mixable("fp16", "fp16")
    assert combined("fp32", "bf16") == "bf16+fp32" and combined("bf16+fp32", "fp32") == "bf16+fp32"
    assert combined("int8", "int8") == "int8" and combined("bf16+fp32", "int8") == "bf16+fp32+int8"


def test_an_unknown_precision_names_the_variable_and_the_choices(monkeypatch) -> None:
    assert Settings().precision == "int8"
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp16")
    with pytest.raises(ConfigError, match=r"one of fp32, bf16, int8, got 'fp16'; set ASSISTANT_PRECISION=int8"):
        Settings()


def test_an_unknown_runtime_names_the_variable_and_the_choices(monkeypatch) -> None:
    assert Settings().runtime == "onnx" and Settings().onnx_reader == "auto"
    monkeypatch.setenv("ASSISTANT_RUNTIME", "tensorrt")
    with pytest.raises(ConfigError, match=r"one of onnx, torch, got 'tensorrt'; set ASSISTANT_RUNTIME=onnx"):
        Settings()
    monkeypatch.setenv("ASSISTANT_RUNTIME", "torch")
    assert Settings().runtime == "torch"
    monkeypatch.setenv("ASSISTANT_ONNX_READER", "int4")
    with pytest.raises(ConfigError, match=r"one of auto, int8, fp32, got 'int4'; set ASSISTANT_ONNX_READER=auto"):
        Settings()
    monkeypatch.setenv("ASSISTANT_ONNX_READER", "fp32")
    assert Settings().onnx_reader == "fp32"


@pytest.fixture(scope="module")
def e5_folder(settings_base):
    from assistant.models.prepare import prepare_e5_folder

    return str(prepare_e5_folder(settings_base.model_cache, progress=False))


@pytest.fixture(scope="module")
def fp32_vectors(e5_folder) -> np.ndarray:
    from assistant.models.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("e5", e5_folder, precision="fp32").embed_passages(TEXTS)


def _bf16_runs() -> bool:
    from assistant.models.precision import runnable

    return runnable("bf16").name == "bf16"


#: These check what bf16 gives; a CPU without AVX-512 BF16 or AMX runs fp32 instead, which
#: test_a_cpu_without_bf16_runs_fp32_and_says_so_once covers.
NEEDS_BF16 = pytest.mark.skipif("not _bf16_runs()", reason="this CPU has no bf16 (AVX-512 BF16 or AMX)")


def _assert_close(vectors: np.ndarray, fp32_vectors: np.ndarray, closeness: float) -> None:
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    cosines = (vectors * fp32_vectors).sum(axis=1)
    assert cosines.min() >= closeness and cosines.min() < 0.99999  # close, and not fp32's own vectors


@pytest.mark.slow
@NEEDS_BF16
def test_e5_in_bf16_gives_unit_vectors_close_to_fp32(e5_folder, fp32_vectors) -> None:
    from assistant.models.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder("e5", e5_folder, precision="bf16")
    assert embedder.precision == "bf16" and embedder.note == ""
    _assert_close(embedder.embed_passages(TEXTS), fp32_vectors, 0.99)


@pytest.mark.slow
def test_e5_in_int8_runs_on_onnx_runtime_close_to_fp32(onnx_files, fp32_vectors) -> None:
    from assistant.models.onnx import OnnxEmbedder

    embedder = OnnxEmbedder(onnx_files, "e5", weights="int8")
    assert embedder.precision == "int8" and embedder.note == ""
    _assert_close(embedder.embed_passages(TEXTS), fp32_vectors, 0.99)


@pytest.mark.slow
@NEEDS_BF16
def test_int8_on_torch_runs_bf16_and_says_why(e5_folder, fp32_vectors) -> None:
    from assistant.models.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder("e5", e5_folder, precision="int8")  # torch has no int8 that keeps quality
    assert embedder.precision == "bf16" and "int8 runs on ONNX Runtime only" in embedder.note
    assert "\n" not in embedder.note and "assistant prepare" in embedder.note
    _assert_close(embedder.embed_passages(TEXTS), fp32_vectors, 0.99)


@pytest.mark.slow
def test_a_cpu_without_bf16_runs_fp32_and_says_so_once(e5_folder, fp32_vectors, monkeypatch) -> None:
    import torch

    from assistant.models.embeddings import SentenceTransformerEmbedder

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)  # another CPU
    assert runnable("bf16").name == "fp32" and "no bf16 support" in runnable("bf16").note
    embedder = SentenceTransformerEmbedder("e5", e5_folder, precision="bf16")
    assert embedder.precision == "fp32" and "\n" not in embedder.note and "ASSISTANT_PRECISION=fp32" in embedder.note
    assert np.allclose(embedder.embed_passages(TEXTS), fp32_vectors, atol=1e-5)  # fp32's vectors, never garbage


@pytest.mark.slow
@NEEDS_BF16
def test_the_bf16_copy_of_e5_gives_the_same_vectors_as_converting_at_load(e5_folder) -> None:
    from pathlib import Path

    from assistant.models.embeddings import SentenceTransformerEmbedder
    from assistant.models.prepare import bf16_folder

    copy = bf16_folder(Path(e5_folder))
    assert copy.name.endswith("-bf16") and bf16_folder(Path(e5_folder)) == copy  # made once
    converted = SentenceTransformerEmbedder("e5", e5_folder, precision="bf16").embed_passages(TEXTS)
    stored = SentenceTransformerEmbedder("e5", str(copy), precision="bf16").embed_passages(TEXTS)
    assert np.array_equal(converted, stored)
