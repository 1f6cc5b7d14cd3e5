"""The vectors of every quote the index offers, kept beside it (assistant/answers/quote_vectors.py):
written after an ingest, read by the embedder answers use so they need not embed them again, and
only ever an aid to speed: another model's file, a broken file or none at all means starting cold."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.answers.quote_vectors import FILE, clause_embedder, keep_quotes, remember_quotes
from assistant.answers.quotes import QueryTerms, clause_points, quotes_of
from assistant.casebook import Casebook
from records.settings import Settings
from tests.helpers.build import passage, source
from tests.helpers.corpus import build_index
from tests.helpers.fakes import FakeEmbedder


@pytest.fixture
def indexed(tmp_path: Path) -> Settings:
    return build_index(tmp_path)


def test_the_quotes_kept_are_the_quotes_answers_take() -> None:
    chunk = passage(
        "Learning includes: the risks to an infant include:\n• bruising in a baby who cannot move\n• a parent's drinking; "
        "records were not shared between the GP and the health visitor."
    )
    hit = source(chunk)
    assert quotes_of(chunk) == [p.quote for p in clause_points(hit, chunk, QueryTerms.of("bruising"))]
    assert "bruising in a baby who cannot move" in quotes_of(chunk)


def test_an_ingest_keeps_every_quote_and_answers_then_embed_none_of_them(indexed: Settings) -> None:
    embedder = FakeEmbedder()
    cb = Casebook(indexed, embedder=embedder)
    cb.ingest()  # the bundled collection on top of the fixture notes
    texts = [str(t) for t in np.load(indexed.cache_dir / FILE)["texts"]]
    every = {q for cs in cb.retriever.chunks_of(list(cb.retriever.catalog.doc_ids)).values() for c in cs for q in quotes_of(c)}
    assert set(texts) == every and len(texts) > 1000
    fresh = FakeEmbedder()
    remembering = clause_embedder(fresh, indexed.cache_dir)
    assert remembering.known() == len(texts)
    assert np.allclose(remembering.embed(texts[:50]), embedder.embed(texts[:50]), atol=1e-6)
    assert fresh.texts == 0  # every vector came from the kept file
    remembering.embed(["a clause no passage holds"])
    assert fresh.texts == 1
    # An ingest that finds nothing new embeds nothing and leaves the kept file as it was.
    before, texts_before = (indexed.cache_dir / FILE).stat().st_mtime_ns, embedder.texts
    assert cb.ingest().written == 0
    assert (indexed.cache_dir / FILE).stat().st_mtime_ns == before and embedder.texts == texts_before


def test_another_models_file_or_a_broken_one_means_starting_cold(indexed: Settings, caplog: pytest.LogCaptureFixture) -> None:
    cb = Casebook(indexed, embedder=FakeEmbedder())
    n = remember_quotes(cb.retriever, cb.embedder, indexed.cache_dir)
    assert n > 0

    class Other(FakeEmbedder):
        name = "another-model"

    assert clause_embedder(Other(), indexed.cache_dir).known() == 0
    whole = (indexed.cache_dir / FILE).read_bytes()
    for broken in (b"not an npz file", whole[: len(whole) // 2]):  # not a zip; a zip cut short
        (indexed.cache_dir / FILE).write_bytes(broken)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert clause_embedder(FakeEmbedder(), indexed.cache_dir).known() == 0
        assert "could not be read" in caplog.text
    # Written afresh, whole, over the broken file.
    assert remember_quotes(cb.retriever, cb.embedder, indexed.cache_dir) == n
    assert clause_embedder(FakeEmbedder(), indexed.cache_dir).known() == n


def test_an_index_without_kept_quotes_gets_them_once_at_the_door(indexed: Settings) -> None:
    (indexed.cache_dir / FILE).unlink()
    said: list[str] = []
    cb = Casebook(indexed, embedder=FakeEmbedder())
    assert cb.ensure_indexed(on_ingest=said.append) is None
    assert (indexed.cache_dir / FILE).exists() and len(said) == 1 and "once" in said[0]
    cb.ensure_indexed(on_ingest=said.append)
    assert len(said) == 1
    # With the file kept, the door opens nothing: no model is loaded until a question needs it.
    opened = Casebook(indexed)
    assert opened.ensure_indexed() is None and opened._embedder is None


def test_a_file_that_cannot_be_written_is_logged_not_raised(indexed: Settings, caplog: pytest.LogCaptureFixture) -> None:
    cb = Casebook(indexed, embedder=FakeEmbedder())
    blocked = indexed.home / "blocked"
    blocked.write_text("a file where the cache folder would be")
    with caplog.at_level(logging.WARNING):
        assert remember_quotes(cb.retriever, cb.embedder, blocked) > 0
        keep_quotes(blocked, lambda: (cb.retriever, cb.embedder))
    assert "could not be kept" in caplog.text
    assert not list(indexed.cache_dir.glob(".quote-vectors-*")), "no half-written file left behind"
