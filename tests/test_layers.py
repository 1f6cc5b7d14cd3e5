"""The layers import one way: records → ingest → vectorstore → assistant → surfaces → evals → benchmarks.
Inside assistant, the question's path does too: question → retrieval → model → answers → the router,
trainer and facade (assistant/*.py).

Every import in every module (top-level or inside a function) is read with ``ast``; a module may
import its own layer or any layer below it, never one above. The records leaf imports nothing of
the project but itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lower number = lower layer. A package prefix names a layer; the longest prefix wins.
LAYERS = {
    "records": 0,
    "prompts": 0,  # data files and the folder they are in
    "ingest": 1,
    "vectorstore": 2,
    "assistant.question": 3.0,
    "assistant.retrieval": 3.1,
    "assistant.model": 3.2,
    "assistant.answers": 3.3,
    "assistant": 3.4,
    "assistant.surfaces": 4,
    "evals": 5,
    "benchmarks": 6,
}


def layer_of(module: str) -> tuple[str, int] | None:
    best = None
    for prefix, rank in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, rank)
    return best


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            # "from assistant import surfaces" imports a submodule by name
            out.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names if layer_of(f"{name}.{alias.name}") != layer_of(name))
    return out


def upward_imports(root: Path = ROOT) -> list[str]:
    problems = []
    for prefix in LAYERS:
        if "." in prefix:
            continue
        for path in sorted((root / prefix).rglob("*.py")):
            module = module_name(path, root)
            own = layer_of(module)
            assert own is not None
            package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            for line, name in imported_modules(ast.parse(path.read_text(encoding="utf-8")), package):
                target = layer_of(name)
                if target is not None and target[1] > own[1]:
                    problems.append(f"{path.relative_to(root)}:{line} ({own[0]}) imports {name} ({target[0]})")
    return problems


def test_no_import_runs_upward() -> None:
    assert upward_imports() == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "bad.py").write_text("def f():\n    from assistant.casebook import Casebook\n")
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "leaf.py").write_text("import vectorstore.store\n")
    (tmp_path / "assistant").mkdir()
    (tmp_path / "assistant" / "core.py").write_text("from assistant import surfaces\nfrom assistant.surfaces.cli import main\n")
    found = upward_imports(tmp_path)
    assert any("ingest/bad.py:2" in p and "assistant.casebook" in p for p in found)
    assert any("records/leaf.py:1" in p for p in found)
    assert sum("assistant/core.py" in p for p in found) == 2


@pytest.mark.parametrize(
    ("module", "layer"),
    [("records.types", "records"), ("assistant.surfaces.cli", "assistant.surfaces"), ("assistant.casebook", "assistant"), ("json", None)],
)
def test_layer_of(module: str, layer: str | None) -> None:
    found = layer_of(module)
    assert (found[0] if found else None) == layer
