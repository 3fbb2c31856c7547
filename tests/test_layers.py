"""Imports flow one way: a module imports only from its own stage or stages to its left.

``types``, ``config`` and ``errors`` import nothing internal; ``models`` (how every model is made
and loaded) and ``llm`` (the user's LLM) come before the pipeline; ``verify`` (pure checks over text,
which the LLM answerer runs on its draft) sits left of ``answer``; ``eval`` (pure scoring) sits below
the API, and what drives an ``Assistant`` (``bench``, the CLI and the web chat) above it. Lazy imports
count too, and no module may import itself through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

#: Stages, left to right. A module's stage is its longest matching prefix.
STAGES = [
    ("assistant.types", "assistant.config", "assistant.errors"),
    ("assistant.text",),
    ("assistant.models",),
    ("assistant.llm",),
    ("assistant.ingest",),
    ("assistant.index",),
    ("assistant.retrieve",),
    ("assistant.verify",),
    ("assistant.answer",),
    ("assistant.eval",),
    ("assistant.chat", "assistant.parts", "assistant.api"),
    ("assistant.bench", "assistant.ui", "assistant.__init__",
     "assistant.__main__"),
]


def stage_of(module: str) -> int:
    best, rank = -1, -1
    for index, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} is in no stage; add it to STAGES"
    return rank


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts)


def internal_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of the package in ``path``, relative ones resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    package = package.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "assistant" or target.startswith("assistant."):
                # `from . import metrics` imports a module of that package
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.append((node.lineno, sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                                  or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("assistant")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_imports_flow_left_to_right(path: Path) -> None:
    module = module_name(path)
    mine = stage_of(module)
    wrong = [f"line {line}: {target}" for line, target in internal_imports(path)
             if stage_of("assistant.__init__" if target == "assistant" else target) > mine]
    assert not wrong, f"{module} imports from stages to its right: {wrong}"


def test_the_base_modules_import_nothing_internal() -> None:
    """Besides each other: settings raise :class:`~assistant.errors.ConfigError`."""
    base = set(STAGES[0])
    for name in base:
        imported = {target for _, target in internal_imports(PACKAGE / f"{name.rpartition('.')[2]}.py")}
        assert imported <= base, (name, imported - base)


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle a depth-first walk of ``graph`` (module -> modules it imports) finds."""
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(trail: list[str]) -> None:
        for target in sorted(graph.get(trail[-1], ())):
            if target in trail:
                circles.append(trail[trail.index(target):] + [target])
            elif target not in done:
                visit(trail + [target])
        done.add(trail[-1])

    for module in sorted(graph):
        if module not in done:
            visit([module])
    return circles


def test_import_circles_are_found() -> None:
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    """No import circle, lazy imports included (``gguf`` and the LLM backends once imported each other)."""
    graph = {}
    for path in MODULES:
        module = module_name(path).removesuffix(".__init__")
        graph[module] = {target for _, target in internal_imports(path)
                         if target != module and not module.startswith(target + ".") and target != "assistant"}
    assert not import_circles(graph), f"import circles: {import_circles(graph)[:3]}"


def test_the_assistant_shows_users_what_they_call_and_holds_its_parts() -> None:
    from assistant import Assistant

    public = {name for name in dir(Assistant) if not name.startswith("_")}
    assert public == {"answer_modes", "answer_questions", "ask", "ask_stream", "chat", "check_mode", "check_question",
                      "documents", "ensure_index", "evaluate", "index", "notes", "remove", "retrieve"}
    assert not any(cls.__name__ == "Parts" for cls in Assistant.__mro__)


def test_no_import_names_a_stage_without_the_package() -> None:
    """``from models.embeddings import …`` (a relative import gone wrong) fails only when that line runs."""
    stages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    wrong = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            wrong += [f"{module_name(path)}:{node.lineno} {n}" for n in names if n.split(".")[0] in stages]
    assert not wrong, wrong
