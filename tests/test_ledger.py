"""vectorstore/ledger.py: typed rows in and out of the SQLite ledger (LedgerEntry, IndexedDocument,
Exclusion), and the writing → done protocol that makes ingest crash-safe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from records.types import DocMeta, Document, Exclusion, IndexedDocument, LedgerEntry, Section
from vectorstore.ledger import Ledger


def document(doc_id: str, kind: str = "case_review", **meta: object) -> Document:
    text = "Learning includes: safe sleep advice for fathers."
    return Document(
        doc_id=doc_id,
        kind=kind,
        title=f"Title of {doc_id}",
        heading=f"2020 – Cardiff – {doc_id}",
        source_file="listing.txt",
        source_text=text,
        start=0,
        end=len(text),
        sections=(Section(name="learning", start=0, end=len(text)),),
        meta=DocMeta(**meta),  # type: ignore[arg-type]
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
    yield ledger
    ledger.close()


def test_writing_then_done_round_trips_the_metadata(ledger: Ledger) -> None:
    meta: dict[str, Any] = {
        "year": 2020,
        "area": "Cardiff",
        "nation": "Wales",
        "age_months": 3.5,
        "age_band": "under 1",
        "outcome": "death",
        "keywords": ("Safe sleep", "Fathers"),
        "report_type": "overview report",
        "url": "https://example.org/cara",
        "publisher": "NSPCC",
    }
    cara = document("cara", **meta)
    ledger.mark_writing([(cara, "bundled", "fp-1", 3)])
    assert ledger.entries() == {"cara": LedgerEntry(doc_id="cara", origin="bundled", fingerprint="fp-1", status="writing")}
    assert ledger.unfinished() == ["cara"]
    assert ledger.documents() == [], "a document being written is not counted yet"

    ledger.mark_done(["cara"])
    assert ledger.unfinished() == []
    assert ledger.entries()["cara"].status == "done"
    assert ledger.documents() == [
        IndexedDocument(
            doc_id="cara",
            kind="case_review",
            chunks=3,
            title="Title of cara",
            heading="2020 – Cardiff – cara",
            source_file="listing.txt",
            meta=DocMeta(**meta),
        )
    ]


def test_default_metadata_round_trips(ledger: Ledger) -> None:
    note = document("note", kind="document")
    ledger.mark_writing([(note, "/home/me/note.txt", "fp", 1)])
    ledger.mark_done(["note"])
    (row,) = ledger.documents()
    assert row.meta == DocMeta() and row.kind == "document" and row.chunks == 1


def test_rewriting_a_document_replaces_its_row(ledger: Ledger) -> None:
    ledger.mark_writing([(document("a"), "bundled", "old", 2)])
    ledger.mark_done(["a"])
    ledger.mark_writing([(document("a"), "bundled", "new", 5)])
    assert ledger.entries()["a"] == LedgerEntry("a", "bundled", "new", "writing")
    ledger.mark_done(["a"])
    assert [d.chunks for d in ledger.documents()] == [5]


def test_forget_and_reset(ledger: Ledger) -> None:
    ledger.mark_writing([(document("a"), "o", "f", 1), (document("b"), "o", "f", 1)])
    ledger.mark_done(["a", "b"])
    ledger.forget(["a"])
    assert set(ledger.entries()) == {"b"}
    ledger.set_exclusions("o", [Exclusion("x.html", "X", "not UK")])
    ledger.reset()
    assert ledger.entries() == {} and ledger.exclusions() == []


def test_exclusions_are_replaced_per_origin(ledger: Ledger) -> None:
    first = Exclusion(source_file="a.html", title="US news", reason="about the United States, not the UK")
    other = Exclusion(source_file="b.html", title="Cookie page", reason="no text left after cleaning")
    ledger.set_exclusions("bundled", [first])
    ledger.set_exclusions("/home/me/b.html", [other])
    assert ledger.exclusions() == [first, other]
    ledger.set_exclusions("bundled", [])
    assert ledger.exclusions() == [other]


def test_the_ledger_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    first.mark_writing([(document("a"), "o", "f", 1)])
    first.close()
    again = Ledger(path)
    try:
        assert again.unfinished() == ["a"], "an interrupted write is still visible to the next run"
    finally:
        again.close()
