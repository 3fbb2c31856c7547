"""Old import paths (``assistant.store``, ``assistant.verify`` ...) from before the stage folders.

``import assistant.store`` still works and gives the module now at ``assistant.index.store``,
with a DeprecationWarning naming the new path. Nothing is imported until an old name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: Old module -> where it lives now.
MOVED = {
    "assistant.text": "assistant.text.normalize",  # a package now; its old names are in .normalize
    "assistant.glossary": "assistant.text.glossary",
    "assistant.loaders": "assistant.ingest.loaders",
    "assistant.chunking": "assistant.ingest.chunking",
    "assistant.embeddings": "assistant.index.embeddings",
    "assistant.model_prep": "assistant.index.model_prep",
    "assistant.precision": "assistant.index.precision",
    "assistant.store": "assistant.index.store",
    "assistant.indexing": "assistant.index.indexing",
    "assistant.retrieval": "assistant.retrieve.retriever",
    "assistant.rerank": "assistant.retrieve.rerank",
    "assistant.answer": "assistant.answer.extractive",  # a package now; its old names are in .extractive
    "assistant.llm": "assistant.answer.llm",
    "assistant.gguf": "assistant.answer.gguf",
    "assistant.llm_model": "assistant.answer.llm_model",
    "assistant.generate": "assistant.answer.generate",
    "assistant.prompts": "assistant.answer.prompts.loader",
    "assistant.reader": "assistant.answer.reader",
    "assistant.metrics": "assistant.eval.metrics",
    "assistant.evaluate": "assistant.eval.scoring",
    "assistant.baselines": "assistant.eval.baselines",
    "assistant.benchmarks": "assistant.eval.runner",
    "assistant.llm_report": "assistant.eval.llm_report",
    "assistant.bench_precision": "assistant.eval.bench_precision",
    "assistant.render": "assistant.ui.html",
    "assistant.onnx_models": "assistant.index.onnx_models",
    "assistant.onnx_export": "assistant.answer.onnx_export",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name (or a module under an old package name) and hands out the new module."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201 (the import protocol's)
        new = _new_name(fullname)
        if new is None or new == fullname:
            return None
        if fullname in ("assistant.text", "assistant.answer"):
            return None  # real packages now: their old names import through __getattr__ below
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):  # noqa: ANN001, ANN201
        new = _new_name(spec.name)
        warnings.warn(f"{spec.name} moved to {new}", DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module) -> None:  # noqa: ANN001
        sys.modules[module.__spec__.name if module.__spec__ else module.__name__] = module


def _new_name(fullname: str) -> str | None:
    for old, new in MOVED.items():
        if fullname == old:
            return new
        if fullname.startswith(old + ".") and old == "assistant.reader":
            return new + fullname[len(old):]
    return None


def install() -> None:
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Alias())  # before any finder that knows the old files (an editable install)
