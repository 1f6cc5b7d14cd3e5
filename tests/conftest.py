"""Shared fixtures: every test gets its own CASEBOOK_HOME; fakes implement the real protocols.

``FakeEmbedder`` is for tests of ingest logic (it counts calls, so "no embedding work" can be
asserted). The integration fixtures use the real MiniLM model and real Chroma on disk.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from records.settings import Settings, load_settings


class FakeEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are close. Counts what it embeds."""

    name = "fake"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        out = []
        for text in texts:
            v = [0.0] * self.dim
            for word in text.lower().split():
                v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / norm for x in v])
        return out


@pytest.fixture(autouse=True)
def casebook_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "casebook-home"
    monkeypatch.setenv("CASEBOOK_HOME", str(home))
    for var in ("CASEBOOK_CONFIG", "CASEBOOK_CHROMA_MODE"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def settings(casebook_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The bundled collection ingested once with the real model into real on-disk Chroma."""
    from vectorstore.indexer import run_ingest

    home = tmp_path_factory.mktemp("real-index")
    settings = load_settings(env={"CASEBOOK_HOME": str(home)})
    report = run_ingest(settings, progress=False)
    assert report.documents > 361 and not report.errors
    yield settings
