"""vectorstore/catalog.py: what retrieval needs besides Chroma, built at ingest, kept under
CASEBOOK_HOME, loaded without reading every chunk, rebuilt when it no longer matches the index, and
replaced so that no reader sees half of one (real Chroma on disk, fake embedder)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.casebook import Casebook
from records.settings import Settings
from records.types import Filters
from tests.helpers.corpus import add_reviews, write_documents
from tests.helpers.fakes import FakeEmbedder
from vectorstore.catalog import Catalog, catalog_root, index_stamp, open_catalog
from vectorstore.store import IndexState, Store, open_store


def ingested(settings: Settings, folder: Path) -> Casebook:
    cb = Casebook(settings, embedder=FakeEmbedder())
    cb.ingest([write_documents(folder)])
    return cb


def current(settings: Settings) -> str:
    return (catalog_root(settings) / "CURRENT").read_text(encoding="utf-8")


def no_full_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Store, batch: int = 2000) -> None:
        raise AssertionError("read every chunk from the store")

    monkeypatch.setattr(Store, "all_chunks", refuse)


def test_an_ingest_leaves_a_catalog_that_a_new_process_opens_without_reading_every_chunk(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingested(settings, tmp_path / "notes")
    assert (catalog_root(settings) / current(settings) / "chunks.bm25").is_dir()
    no_full_reads(monkeypatch)
    fresh = Casebook(settings, embedder=FakeEmbedder())
    hits = fresh.retriever.lexical("co-sleeping alcohol sofa", 3)
    assert hits and "alcohol" in hits[0].chunk.text.lower()
    assert fresh.retriever.chunk_count == open_store(settings).count()
    assert [h.doc_id for h in fresh.search("bruising in a non-mobile baby", k=3)]


def test_a_catalog_that_no_longer_matches_the_index_is_rebuilt(settings: Settings, tmp_path: Path) -> None:
    """Reviews written through the store and the ledger behind the catalog's back (as an ingest that
    died before its last step would leave them) are found once the catalog is opened again."""
    ingested(settings, tmp_path / "notes")
    before = current(settings)
    add_reviews(settings, FakeEmbedder())
    cb = Casebook(settings, embedder=FakeEmbedder())
    assert "nspcc-2023-kent-children-f" in cb.retriever.review_lexical("neglect missed appointments moves", 5)
    assert current(settings) != before
    assert cb.retriever.chunk_count == open_store(settings).count()


def test_a_damaged_catalog_is_rebuilt_with_a_warning_not_a_traceback(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingested(settings, tmp_path / "notes")
    (catalog_root(settings) / current(settings) / "documents.jsonl").write_text('{"id": "half a li', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        cb = Casebook(settings, embedder=FakeEmbedder())
        assert cb.retriever.lexical("safe sleep fathers", 2)
    assert "unreadable" in caplog.text


def test_an_interrupted_save_leaves_the_previous_catalog_current(settings: Settings, tmp_path: Path) -> None:
    ingested(settings, tmp_path / "notes")
    root = catalog_root(settings)
    live = current(settings)
    (root / "g9-9-deadbeef").mkdir()  # a folder a killed save was writing
    (root / "CURRENT.deadbeef").write_text("g9-9-deadbeef", encoding="utf-8")  # and its unrenamed pointer
    store = open_store(settings)
    loaded = Catalog.load(root, index_stamp(store))
    assert loaded is not None and loaded.name == live
    Catalog.build(store.all_chunks(), index_stamp(store)).save(root)
    assert not (root / "g9-9-deadbeef").exists() and not (root / "CURRENT.deadbeef").exists()
    assert (root / live).is_dir(), "the generation just replaced stays for readers still using it"


def test_another_process_sees_an_ingest_on_its_next_question(settings: Settings, tmp_path: Path) -> None:
    """Two workers on one home: the one that did not ingest reloads when the catalog changes."""
    worker = ingested(settings, tmp_path / "notes")
    assert "nspcc-2022-swansea-young-person-ellis" not in worker.retriever.doc_ids
    other = Casebook(settings, embedder=FakeEmbedder())
    add_reviews(settings, FakeEmbedder())
    open_catalog(settings, open_store(settings))  # what the other process's ingest ends with
    assert "nspcc-2022-swansea-young-person-ellis" in worker.retriever.doc_ids
    assert "nspcc-2022-swansea-young-person-ellis" in other.retriever.doc_ids


def test_filtered_bm25_ranks_only_what_the_filter_allows(fixture_index: Settings) -> None:
    r = Casebook(fixture_index, embedder=FakeEmbedder()).retriever
    wales = Filters(nation=("Wales",))
    everything = r.lexical("safe sleep advice fathers alcohol exploitation", 50)
    filtered = r.lexical("safe sleep advice fathers alcohol exploitation", 50, wales)
    assert filtered and all(h.chunk.meta.nation == "Wales" for h in filtered)
    # The same scores as the unfiltered ranking, restricted: a mask, not a different ranking.
    expected = [(h.chunk.chunk_id, round(h.score, 5)) for h in everything if wales.matches(h.chunk)]
    assert sorted((h.chunk.chunk_id, round(h.score, 5)) for h in filtered) == sorted(expected)


def test_the_index_generation_moves_with_every_ingest_that_changes_something(settings: Settings, tmp_path: Path) -> None:
    """The generation the catalog is stamped with lives in Chroma, beside the index it describes."""
    assert open_store(settings).state() == IndexState()
    cb = ingested(settings, tmp_path / "notes")
    store = open_store(settings)
    first = store.state()
    assert first.generation == 1 and first.chunks == store.count() > 0 and not first.token
    assert cb.retriever.catalog.stamp.generation == 1
    cb.ingest([tmp_path / "notes"])  # nothing changed
    assert store.state().generation == 1
    (tmp_path / "notes" / "later.txt").write_text("A later note about home visits to a family with a new baby.\n", encoding="utf-8")
    cb.ingest([tmp_path / "notes"])
    assert store.state().generation == 2 and cb.retriever.catalog.stamp.generation == 2


def test_a_second_ingest_into_the_same_home_is_refused_while_one_runs(settings: Settings, tmp_path: Path) -> None:
    import fcntl

    from records.errors import StoreError
    from vectorstore.indexer import run_ingest

    ingested(settings, tmp_path / "notes")
    count = open_store(settings).count()
    with open(settings.home / "ingest.lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running ingest in another process holds
        held.truncate(0)
        held.write("pid 4242")
        held.flush()
        with pytest.raises(StoreError, match=r"another ingest \(pid 4242\).*wait for it to finish"):
            run_ingest(settings, [tmp_path / "notes"], rebuild=True, embedder=FakeEmbedder(), progress=False)
    assert open_store(settings).count() == count, "the refused ingest touched nothing"
    assert run_ingest(settings, [tmp_path / "notes"], embedder=FakeEmbedder(), progress=False).unchanged == 5
