"""What retrieval needs besides Chroma, built when the index changes and kept beside it.

Reading every chunk back from Chroma and building two BM25 indexes took 27 s at 120k chunks, in
every process that opened the retriever. The catalog does that once, when an ingest finishes, and
keeps the result under ``CASEBOOK_HOME/catalog``:

    CURRENT                the live generation's folder name (replaced atomically)
    <name>/stamp.json      the index state it was built from: the generation in Chroma, the chunk count
    <name>/documents.jsonl every document's first chunk (metadata and text) and chunk count, by id
    <name>/chunk_ids.json  the passage BM25 index's order: position → chunk id
    <name>/chunks.bm25/    BM25 over passages (heading, text, NSPCC keywords), bm25s, memory-mapped
    <name>/documents.bm25/ BM25 over whole documents (heading, every passage, keywords)

Consumes the store (its chunks, and the generation its collection's metadata records); produces a
``Catalog``. Opening reads the small files
and memory-maps the BM25 arrays, so start-up does not grow with the collection's text. A catalog whose
stamp no longer matches the index (an ingest that crashed before rebuilding it, an index written by
an older Casebook) is rebuilt from the store and replaced. A reader never sees half of one: the new
folder is written and fsynced first, then CURRENT is renamed over. Several processes may share a
home (workers against one Chroma server): each notices a new CURRENT (``Catalog.is_current``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from records.settings import Settings
from records.text import tokens
from records.types import Chunk, Filters
from vectorstore.store import Store, chunk_from_row, chunk_metadata

FORMAT = 2  # bump when what a catalog holds changes, so older ones are rebuilt
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    """The index state a catalog was built from."""

    generation: int  # the ledger's count of changes to the indexed documents
    chunks: int  # chunks in the store
    format: int = FORMAT


def index_stamp(store: Store) -> Stamp:
    """The index as it is now: the generation its last finished ingest recorded in Chroma, and its
    chunk count (which also tells a catalog built before a crashed ingest's writes from one after)."""
    return Stamp(generation=store.state().generation, chunks=store.count())


def chunk_tokens(chunk: Chunk) -> list[str]:
    """What the passage BM25 index sees of a chunk."""
    return tokens(f"{chunk.heading} {chunk.text} {' '.join(chunk.meta.keywords)}")


def document_tokens(chunks: Sequence[Chunk]) -> list[str]:
    """What the document BM25 index sees: the heading, every passage and the NSPCC keywords."""
    first = chunks[0]
    return tokens(" ".join([first.heading, *(c.text for c in chunks), *first.meta.keywords]))


class Catalog:
    """Every document's first chunk, the chunk ids in BM25 order, and the two BM25 indexes."""

    def __init__(
        self, firsts: Sequence[Chunk], counts: Sequence[int], chunk_ids: Sequence[str], chunk_bm25: Any, doc_bm25: Any, stamp: Stamp
    ) -> None:
        self.firsts = list(firsts)  # sorted by doc_id
        self.doc_ids = [c.doc_id for c in self.firsts]
        self.position = {d: i for i, d in enumerate(self.doc_ids)}
        self.counts = np.asarray(counts, dtype=np.int64)
        self.chunk_ids = list(chunk_ids)
        self.chunk_doc = np.repeat(np.arange(len(self.firsts), dtype=np.int32), self.counts)
        self.chunk_bm25 = chunk_bm25
        self.doc_bm25 = doc_bm25
        self.stamp = stamp
        self.root: Path | None = None  # where it is kept, once saved or loaded
        self.name = ""
        self._masks: dict[Filters, np.ndarray] = {}

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_ids)

    def first(self, doc_id: str) -> Chunk:
        return self.firsts[self.position[doc_id]]

    def doc_mask(self, filters: Filters) -> np.ndarray:
        """Which documents the filters allow (a boolean per document), remembered per filter."""
        mask = self._masks.get(filters)
        if mask is None:
            mask = np.fromiter((filters.matches(c) for c in self.firsts), dtype=bool, count=len(self.firsts))
            if len(self._masks) > 64:
                self._masks.clear()
            self._masks[filters] = mask
        return mask

    def band_mask(self, bands: frozenset[str]) -> np.ndarray:
        """Which documents are in one of these age bands."""
        key = Filters(age_band=tuple(sorted(bands)))
        return self.doc_mask(key)

    def chunk_mask(self, filters: Filters) -> np.ndarray:
        return self.doc_mask(filters)[self.chunk_doc]

    def is_current(self) -> bool:
        """False once another process (an ingest) has put a newer catalog in place."""
        if self.root is None:
            return True
        try:
            return (self.root / "CURRENT").read_text(encoding="utf-8").strip() == self.name
        except OSError:
            return False

    # -- building and keeping ---------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Iterable[Chunk], stamp: Stamp) -> Catalog:
        """From every chunk of the index (``Store.all_chunks``): the slow path, once per change."""
        import bm25s

        by_doc: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        docs = sorted(by_doc)
        ordered = [sorted(by_doc[d], key=lambda c: c.index) for d in docs]
        chunk_bm25, doc_bm25 = bm25s.BM25(), bm25s.BM25()
        if docs:
            chunk_bm25.index([chunk_tokens(c) for cs in ordered for c in cs], show_progress=False)
            doc_bm25.index([document_tokens(cs) for cs in ordered], show_progress=False)
        return cls(
            firsts=[cs[0] for cs in ordered],
            counts=[len(cs) for cs in ordered],
            chunk_ids=[c.chunk_id for cs in ordered for c in cs],
            chunk_bm25=chunk_bm25,
            doc_bm25=doc_bm25,
            stamp=stamp,
        )

    def save(self, root: Path) -> None:
        """Write a new generation folder, then point CURRENT at it; older generations but the one
        just replaced are removed (a process may still be reading it)."""
        root.mkdir(parents=True, exist_ok=True)
        name = f"g{self.stamp.generation}-{self.stamp.chunks}-{uuid.uuid4().hex[:8]}"
        folder = root / name
        folder.mkdir()
        (folder / "stamp.json").write_text(json.dumps(self.stamp.__dict__), encoding="utf-8")
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as fh:
            for c, n in zip(self.firsts, self.counts.tolist(), strict=True):
                fh.write(json.dumps({"id": c.chunk_id, "text": c.text, "meta": chunk_metadata(c), "chunks": n}) + "\n")
        (folder / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")
        if self.firsts:
            self.chunk_bm25.save(str(folder / "chunks.bm25"), show_progress=False)
            self.doc_bm25.save(str(folder / "documents.bm25"), show_progress=False)
        _fsync_tree(folder)
        previous = _read_current(root)
        tmp = root / f"CURRENT.{uuid.uuid4().hex[:8]}"
        tmp.write_text(name, encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, root / "CURRENT")
        _fsync(root)
        self.root, self.name = root, name
        for old in root.iterdir():
            if old.is_dir() and old.name not in (name, previous):
                shutil.rmtree(old, ignore_errors=True)
            elif old.name.startswith("CURRENT."):
                old.unlink(missing_ok=True)  # a pointer an interrupted save left behind

    @classmethod
    def load(cls, root: Path, stamp: Stamp) -> Catalog | None:
        """The catalog CURRENT names, if it was built from ``stamp``'s index state; else None."""
        import bm25s

        name = _read_current(root)
        if not name:
            return None
        folder = root / name
        try:
            saved = Stamp(**json.loads((folder / "stamp.json").read_text(encoding="utf-8")))
            if saved != stamp:
                return None
            firsts, counts = [], []
            with open(folder / "documents.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    firsts.append(chunk_from_row(row["id"], row["text"], row["meta"]))
                    counts.append(int(row["chunks"]))
            chunk_ids = json.loads((folder / "chunk_ids.json").read_text(encoding="utf-8"))
            if firsts:
                chunk_bm25 = bm25s.BM25.load(str(folder / "chunks.bm25"), mmap=True, show_progress=False, verbosity=0)
                doc_bm25 = bm25s.BM25.load(str(folder / "documents.bm25"), mmap=True, show_progress=False, verbosity=0)
            else:
                chunk_bm25, doc_bm25 = bm25s.BM25(), bm25s.BM25()
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a folder removed or damaged under us
            log.warning("the retrieval catalog at %s is unreadable (%s); rebuilding it", folder, exc)
            return None
        catalog = cls(firsts, counts, chunk_ids, chunk_bm25, doc_bm25, saved)
        if catalog.chunk_count != stamp.chunks:
            return None
        catalog.root, catalog.name = root, name
        return catalog


def catalog_root(settings: Settings) -> Path:
    return settings.home / "catalog"


def open_catalog(settings: Settings, store: Store) -> Catalog:
    """The catalog of the index as it is now: loaded if current, else rebuilt from the store and kept."""
    stamp = index_stamp(store)
    root = catalog_root(settings)
    catalog = Catalog.load(root, stamp)
    if catalog is None:
        catalog = refresh_catalog(settings, store, stamp)
    return catalog


def refresh_catalog(settings: Settings, store: Store, stamp: Stamp | None = None) -> Catalog:
    """Rebuild the catalog from the store and keep it (ingest's last step). An unwritable home
    leaves a working catalog in memory and a warning."""
    stamp = stamp or index_stamp(store)
    catalog = Catalog.build(store.all_chunks(), stamp)
    try:
        catalog.save(catalog_root(settings))
    except OSError as exc:
        log.warning("could not keep the retrieval catalog under %s (%s); every start will rebuild it", settings.home, exc)
    return catalog


def _read_current(root: Path) -> str:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        _fsync(path)
    _fsync(folder)
