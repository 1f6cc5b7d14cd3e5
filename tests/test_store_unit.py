"""vectorstore/store.py: Filters → Chroma's ``where`` (one case per filter kind), chunks written to and read
back from a real on-disk Chroma in tmp_path, and where the index is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from records.errors import StoreError
from records.settings import Settings
from records.types import Chunk, DocMeta, Filters
from vectorstore.store import Store, StoreLocation, _where


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        (Filters(), None),
        (Filters(year_from=2020), {"year": {"$gte": 2020}}),
        (Filters(year_to=2022), {"year": {"$lte": 2022}}),
        (Filters(year_from=2020, year_to=2022), {"$and": [{"year": {"$gte": 2020}}, {"year": {"$lte": 2022}}]}),
        (Filters(nation=("Wales", "Scotland")), {"nation": {"$in": ["Wales", "Scotland"]}}),
        (Filters(age_band=("under 1",)), {"age_band": {"$in": ["under 1"]}}),
        (Filters(outcome=("death",)), {"outcome": {"$in": ["death"]}}),
        (Filters(kind=("case_review", "briefing")), {"kind": {"$in": ["case_review", "briefing"]}}),
        (Filters(keyword=("neglect",)), {"keywords": {"$contains": "neglect"}}),
        (
            Filters(keyword=("neglect", "bruising")),
            {"$or": [{"keywords": {"$contains": "neglect"}}, {"keywords": {"$contains": "bruising"}}]},
        ),
    ],
)
def test_each_filter_kind_becomes_its_where(filters: Filters, where: dict[str, Any] | None) -> None:
    assert _where(filters) == where


def test_several_filters_are_all_required() -> None:
    where = _where(Filters(year_from=2021, nation=("Wales",), keyword=("neglect", "fathers")))
    assert where == {
        "$and": [
            {"year": {"$gte": 2021}},
            {"nation": {"$in": ["Wales"]}},
            {"$or": [{"keywords": {"$contains": "neglect"}}, {"keywords": {"$contains": "fathers"}}]},
        ]
    }


def test_location_of_settings(tmp_path: Path) -> None:
    embedded = StoreLocation.of(Settings(home=tmp_path, collection="c1"))
    assert (embedded.path, embedded.collection) == (tmp_path / "chroma", "c1")
    assert embedded.describe() == f"the index at {tmp_path / 'chroma'}"
    server = StoreLocation.of(Settings(home=tmp_path, chroma_mode="server", chroma_host="10.0.0.2", chroma_port=8123))
    assert server.path is None
    assert server.describe() == "the Chroma server at 10.0.0.2:8123"


def chunk(doc_id: str, index: int, text: str, **meta: Any) -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}#{index}",
        doc_id=doc_id,
        index=index,
        text=text,
        start=10 * index,
        end=10 * index + len(text),
        section="learning",
        heading_path=("2021 – Leeds – Child Dan", "Learning"),
        kind="case_review",
        title="Child Dan",
        heading="2021 – Leeds – Child Dan",
        source_file="listing.txt",
        meta=DocMeta(**meta),
    )


def unit(i: int, dim: int = 4) -> list[float]:
    return [1.0 if j == i else 0.0 for j in range(dim)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(StoreLocation(collection="unit", path=tmp_path / "chroma"))


def test_a_chunk_reads_back_exactly_as_written(store: Store) -> None:
    full = chunk(
        "dan",
        0,
        "Nursery staff should share concerns about bruising.",
        year=2021,
        area="Leeds",
        nation="England",
        age_months=24.0,
        age_band="1-4",
        outcome="serious harm",
        keywords=("Physical abuse", "Bruising"),
        report_type="executive summary",
        url="https://example.org/dan",
        publisher="NSPCC",
    )
    bare = chunk("plain", 0, "A note with no metadata at all.")
    store.upsert([full, bare], [unit(0), unit(1)])
    assert store.count() == 2
    assert {c.chunk_id: c for c in store.all_chunks()} == {"dan#0": full, "plain#0": bare}


def test_nearest_first_with_cosine_scores_and_filters(store: Store) -> None:
    a = chunk("a", 0, "first passage", year=2020, nation="Wales", keywords=("Neglect",))
    b = chunk("b", 0, "second passage", year=2023, nation="England", keywords=("Bruising",))
    store.upsert([a, b], [unit(0), [0.6, 0.8, 0.0, 0.0]])
    hits = store.query(unit(0), k=5)
    assert [h.chunk.doc_id for h in hits] == ["a", "b"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(0.6, abs=1e-5)
    assert [h.chunk.doc_id for h in store.query(unit(0), 5, Filters(year_from=2021))] == ["b"]
    assert [h.chunk.doc_id for h in store.query(unit(0), 5, Filters(keyword=("bruising",)))] == ["b"]
    assert [h.chunk.doc_id for h in store.query(unit(0), 5, Filters(nation=("Wales",), year_to=2020))] == ["a"]
    assert store.query(unit(0), 5, Filters(nation=("Scotland",))) == []


def test_query_many_answers_each_vector(store: Store) -> None:
    store.upsert([chunk("a", 0, "first"), chunk("b", 0, "second")], [unit(0), unit(1)])
    first, second = store.query_many([unit(0), unit(1)], k=1)
    assert (first[0].chunk.doc_id, second[0].chunk.doc_id) == ("a", "b")


def test_an_empty_store_answers_nothing(store: Store) -> None:
    assert store.count() == 0
    assert store.query_many([unit(0), unit(1)], k=3) == [[], []]


def test_one_vector_per_chunk(store: Store) -> None:
    with pytest.raises(StoreError, match="expected one vector per chunk, got 1 for 2"):
        store.upsert([chunk("a", 0, "x"), chunk("a", 1, "y")], [unit(0)])


def test_writing_a_document_twice_does_not_duplicate_and_delete_removes_it(store: Store) -> None:
    store.upsert([chunk("a", 0, "one"), chunk("a", 1, "two"), chunk("b", 0, "three")], [unit(0), unit(1), unit(2)])
    store.upsert([chunk("a", 0, "one again")], [unit(3)])
    assert store.ids_by_document() == {"a": {"a#0", "a#1"}, "b": {"b#0"}}
    store.delete_documents(["a"])
    assert store.ids_by_document() == {"b": {"b#0"}}
    store.reset()
    assert store.count() == 0


def test_a_server_that_is_not_there_is_a_store_error() -> None:
    from tests.helpers.net import free_port

    location = StoreLocation(collection="c", host="127.0.0.1", port=free_port())
    with pytest.raises(StoreError, match=r"cannot open the Chroma server at 127\.0\.0\.1:\d+ .*set chroma_mode"):
        Store(location)
