"""vectorstore/lease.py: one ingest writes a collection at a time, its hold recorded in the collection
itself; the index's generation moves on only when an ingest that changed something finishes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from records.errors import IndexBusy
from records.settings import load_settings
from vectorstore.lease import IngestLease
from vectorstore.store import IndexState, Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(load_settings(home=tmp_path / "home"))


def test_a_second_ingest_is_refused_naming_the_first_until_it_lets_go(store: Store) -> None:
    first = IngestLease(store, lease_s=30)
    assert first.acquire() == IndexState()  # a new collection: generation 0
    held = store.state()
    assert held.token == first.token and held.writer == first.writer and held.lease_until > time.time()
    with pytest.raises(IndexBusy, match=f"another ingest \\({first.writer}\\) is writing") as refused:
        IngestLease(store, lease_s=30).acquire()
    assert "collection 'casebook'" in str(refused.value) and "lapses at" in str(refused.value)
    assert first.release(changed=True) == 1
    assert store.state() == IndexState(generation=1, chunks=0)  # released: no writer, the generation moved on
    second = IngestLease(store, lease_s=30)
    second.acquire()
    assert second.release(changed=False) == 1  # nothing changed: the same generation


def test_a_lease_not_renewed_lapses_and_the_next_ingest_goes_ahead(store: Store) -> None:
    killed = IngestLease(store, lease_s=30)
    store.set_state(IndexState(generation=4, chunks=9, writer=killed.writer, token=killed.token, lease_until=time.time() - 1))
    after = IngestLease(store, lease_s=30)
    assert after.acquire().generation == 4
    assert after.release(changed=True) == 5


def test_a_failed_ingest_lets_go_without_moving_the_generation(store: Store) -> None:
    store.set_state(IndexState(generation=7, chunks=3))
    failed = IngestLease(store, lease_s=30)
    failed.acquire()
    failed.abandon()
    assert store.state() == IndexState(generation=7, chunks=3)
    IngestLease(store, lease_s=30).acquire()  # free again


def test_the_lease_is_renewed_while_the_ingest_runs(store: Store) -> None:
    lease = IngestLease(store, lease_s=0.9)
    lease.acquire()
    first = store.state().lease_until
    time.sleep(1.2)  # past the first lease: renewed every third of it
    assert store.state().lease_until > first and store.state().lease_until > time.time()
    lease.release(changed=False)
