"""Shared fixtures: every test gets its own CASEBOOK_HOME; fakes implement the real protocols.

The fakes live in tests/helpers/fakes.py (``FakeEmbedder`` is re-exported here for the tests that
import it from conftest). ``fixture_index`` is a small hand-written collection indexed with the fake
embedder into real on-disk Chroma (tests/helpers/corpus.py): fast end-to-end tests use it.
``real_index`` is the bundled collection with the real MiniLM model: slow tests use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from records.settings import Settings, load_settings
from tests.helpers.corpus import COSINE_RELEVANCE, build_index
from tests.helpers.fakes import FakeEmbedder

__all__ = ["FakeEmbedder"]


@pytest.fixture(autouse=True)
def casebook_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "casebook-home"
    monkeypatch.setenv("CASEBOOK_HOME", str(home))
    for var in ("CASEBOOK_CONFIG", "CASEBOOK_CHROMA_MODE", "CASEBOOK_LLM"):
        monkeypatch.delenv(var, raising=False)
    # Tests that build a Casebook on the fake embedder read relevance by its cosines; the real-model
    # fixtures load their settings from an explicit environment and keep the packaged model.
    monkeypatch.setenv("CASEBOOK_RELEVANCE_MODEL", str(COSINE_RELEVANCE))
    return home


@pytest.fixture
def settings(casebook_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-written notes and listing (tests/helpers/corpus.py), indexed once with the fake
    embedder into real Chroma on disk. Tests read it; none writes to it."""
    return build_index(tmp_path_factory.mktemp("fixture-index"))


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The bundled collection ingested once with the real model into real on-disk Chroma."""
    from vectorstore.indexer import run_ingest

    home = tmp_path_factory.mktemp("real-index")
    settings = load_settings(env={"CASEBOOK_HOME": str(home)})
    report = run_ingest(settings, progress=False)
    assert report.documents > 361 and not report.errors
    yield settings
