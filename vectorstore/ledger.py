"""What is indexed, document by document: the ledger that makes ingest incremental and crash-safe.

A SQLite file under ``CASEBOOK_HOME``. Each document row holds the fingerprint of what was
indexed, where it came from (``origin``: "bundled" or a file path) and a status. A document is
marked ``writing`` before its chunks go to the store and ``done`` after; a run that finds rows
still ``writing`` (Ctrl-C, kill -9) deletes those documents' chunks first and indexes them again.
It also keeps the last run's exclusions (``casebook stats`` lists them). The index's generation, which
tells a catalog whether it is current, lives in Chroma with the index (vectorstore/store.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from records.types import DocMeta, Document, Exclusion, IndexedDocument, LedgerEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('writing', 'done')),
    chunks INTEGER NOT NULL,
    kind TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exclusions (
    origin TEXT NOT NULL,
    source_file TEXT NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def reset(self) -> None:
        self._db.executescript("BEGIN; DELETE FROM documents; DELETE FROM exclusions; COMMIT;")

    def unfinished(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT doc_id FROM documents WHERE status = 'writing'")]

    def forget(self, doc_ids: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in doc_ids])
        self._db.execute("COMMIT")

    def entries(self) -> dict[str, LedgerEntry]:
        """doc_id → what the ledger knows of it."""
        return {r[0]: LedgerEntry(*r) for r in self._db.execute("SELECT doc_id, origin, fingerprint, status FROM documents")}

    def mark_writing(self, docs: Iterable[tuple[Document, str, str, int]]) -> None:
        """(document, origin, fingerprint, chunk count) for each document about to be written."""
        rows = [(d.doc_id, origin, fp, "writing", n, d.kind, json.dumps(_meta_row(d))) for d, origin, fp, n in docs]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self._db.execute("COMMIT")

    def mark_done(self, doc_ids: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("UPDATE documents SET status = 'done' WHERE doc_id = ?", [(d,) for d in doc_ids])
        self._db.execute("COMMIT")

    def set_exclusions(self, origin: str, exclusions: Iterable[Exclusion]) -> None:
        self._db.execute("BEGIN")
        self._db.execute("DELETE FROM exclusions WHERE origin = ?", (origin,))
        self._db.executemany("INSERT INTO exclusions VALUES (?, ?, ?, ?)", [(origin, e.source_file, e.title, e.reason) for e in exclusions])
        self._db.execute("COMMIT")

    def exclusions(self) -> list[Exclusion]:
        return [Exclusion(*r) for r in self._db.execute("SELECT source_file, title, reason FROM exclusions")]

    def documents(self) -> list[IndexedDocument]:
        """Every fully indexed (done) document, with the metadata stats count."""
        out: list[IndexedDocument] = []
        for doc_id, kind, chunks, meta in self._db.execute("SELECT doc_id, kind, chunks, meta FROM documents WHERE status = 'done'"):
            out.append(_indexed(doc_id, kind, int(chunks), json.loads(meta)))
        return out


def _indexed(doc_id: str, kind: str, chunks: int, row: dict[str, Any]) -> IndexedDocument:
    fields = {f: row[f] for f in DocMeta.__dataclass_fields__ if f in row}
    fields["keywords"] = tuple(str(k) for k in row.get("keywords") or ())
    return IndexedDocument(
        doc_id=doc_id,
        kind=kind,
        chunks=chunks,
        title=str(row.get("title", "")),
        heading=str(row.get("heading", "")),
        source_file=str(row.get("source_file", "")),
        meta=DocMeta(**fields),
    )


def _meta_row(doc: Document) -> dict[str, object]:
    row = asdict(doc.meta)
    row["keywords"] = list(doc.meta.keywords)
    row["title"] = doc.title
    row["heading"] = doc.heading
    row["source_file"] = doc.source_file
    return row
