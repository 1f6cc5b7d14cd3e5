"""constraints.txt pins what the README's commands and .ci/run install; it must agree with
pyproject.toml's ranges (.ci/lock.py writes it and checks it)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def lock() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_lock", ROOT / ".ci" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pyproject_and_the_constraints_agree() -> None:
    ci = lock()
    assert ci.disagreements(ci.read_constraints()) == []


def test_every_line_pins_one_exact_version() -> None:
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), line


def test_the_native_and_the_heavy_packages_are_pinned() -> None:
    pins = lock().read_constraints()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pins["llama-cpp-python"]), "llama.cpp is built from one known source"
    assert pins["torch"].startswith("2.13.0"), "torch's CPU build, as the README installs it"
    assert {"chromadb", "gradio", "sentence-transformers", "langchain-core"} <= set(pins)


def test_a_pin_outside_pyprojects_range_or_missing_is_reported() -> None:
    ci = lock()
    pins = ci.read_constraints()
    moved = {**pins, "chromadb": "2.0.0"}
    del moved["gradio"]
    problems = ci.disagreements(moved)
    assert any(p.startswith("chromadb: pyproject.toml asks for") and "pins 2.0.0" in p for p in problems)
    assert "gradio: in pyproject.toml but not pinned in constraints.txt" in problems
