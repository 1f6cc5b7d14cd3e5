"""The ingest run: sources → documents → chunks → vectors → Chroma, incrementally and safely.

Consumes ``Settings`` and optional paths (none means the bundled collection); produces an
``IngestReport``. Unchanged documents (same fingerprint, fully written) cost no embedding work. A
changed document's chunks are replaced; documents that a source no longer yields are removed.
Writes go through the ledger (vectorstore/ledger.py): ``writing`` before the store is touched,
``done`` after, and a run first repairs whatever an interrupted run left ``writing``. Its last step
brings the retrieval catalog (vectorstore/catalog.py) up to date with the index.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.bundled import Parsed, parse_collection
from ingest.chunking import chunk_document
from ingest.files import parse_user_file, read_user_file
from ingest.sources import iter_paths
from records.errors import SourceError, StoreError
from records.settings import Settings
from records.types import Chunk, Document, Exclusion, SourceProblem
from vectorstore.catalog import open_catalog
from vectorstore.embedder import Embedder, load_embedder
from vectorstore.ledger import Ledger
from vectorstore.store import Store, open_store

# Bump when parsing or chunking changes what a document becomes, so every document is redone.
PIPELINE_VERSION = "casebook-ingest-1"
BUNDLED = "bundled"
# Chunks embedded per store write: large enough to keep the model busy, small enough that an
# interrupted run loses little.
GROUP_CHUNKS = 512


@dataclass
class IngestReport:
    documents: int = 0
    reviews: int = 0
    chunks: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0
    embedded_chunks: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    excluded: list[Exclusion] = field(default_factory=list)
    errors: list[SourceProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "reviews": self.reviews,
            "chunks": self.chunks,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "repaired": self.repaired,
            "embedded_chunks": self.embedded_chunks,
            "excluded": [e.as_dict() for e in self.excluded],
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 2),
        }


Progress = Callable[[int, int], None]


def _parse_sources(paths: Sequence[Path] | None, report: IngestReport) -> dict[str, Parsed]:
    """origin → what it yields. Unreadable files are reported and skipped."""
    if not paths:
        return {BUNDLED: parse_collection()}
    out: dict[str, Parsed] = {}
    for path in iter_paths(paths):
        try:
            src = read_user_file(path)
            out[str(path.resolve())] = parse_user_file(src)
        except SourceError as exc:
            report.errors.append(SourceProblem(path=str(path), reason=str(exc)))
    return out


def _tqdm_progress(total: int) -> tuple[Progress, Callable[[], None]]:
    if total < 200 or not sys.stderr.isatty():
        return (lambda done, n: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
    return (lambda done, n: bar.update(n)), bar.close


def run_ingest(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> IngestReport:
    with _only_ingest(settings):
        return _run_ingest(settings, paths, rebuild=rebuild, embedder=embedder, progress=progress)


@contextlib.contextmanager
def _only_ingest(settings: Settings) -> Iterator[None]:
    """One ingest at a time per home: workers and the CLI share the ledger and the catalog."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "ingest.lock", "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StoreError(
                f"another ingest ({holder}) is writing to the index in {settings.home}; wait for it to finish, then run this again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_ingest(
    settings: Settings,
    paths: Sequence[Path] | None,
    *,
    rebuild: bool,
    embedder: Embedder | None,
    progress: bool,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    store = open_store(settings)
    ledger = Ledger(settings.state_path)
    try:
        if rebuild:
            store.reset()
            ledger.reset()
        unfinished = ledger.unfinished()
        if unfinished:
            store.delete_documents(unfinished)
            ledger.forget(unfinished)
            report.repaired = len(unfinished)

        by_origin = _parse_sources(paths, report)
        known = ledger.entries()
        todo: list[tuple[Document, str, str]] = []
        seen: set[str] = set()
        for origin, parsed in by_origin.items():
            report.reviews += len(parsed.reviews)
            report.excluded.extend(parsed.exclusions)
            ledger.set_exclusions(origin, parsed.exclusions)
            for doc in parsed.documents:
                if doc.doc_id in seen:
                    continue  # the same file named twice on one command line
                seen.add(doc.doc_id)
                report.documents += 1
                fp = doc.fingerprint(PIPELINE_VERSION + f"|{settings.chunk_max_tokens}")
                entry = known.get(doc.doc_id)
                if entry is not None and (entry.fingerprint, entry.status) == (fp, "done"):
                    report.unchanged += 1
                else:
                    todo.append((doc, origin, fp))
        stale = [d for d, entry in known.items() if entry.origin in by_origin and d not in seen]
        if stale:
            store.delete_documents(stale)
            ledger.forget(stale)
            report.removed = len(stale)

        if todo:
            embedder = embedder or load_embedder(settings.embed_model, settings.embed_batch_size, settings.embed_backend)
            _write(todo, settings, store, ledger, embedder, report, progress)
        report.chunks = sum(d.chunks for d in ledger.documents())
    finally:
        ledger.close()
    # What retrieval needs besides Chroma (BM25, the documents' first chunks), rebuilt once per
    # change so no process has to read every chunk at start-up. A run that changed nothing loads it.
    open_catalog(settings, store)
    report.seconds = time.perf_counter() - started
    return report


def _write(
    todo: list[tuple[Document, str, str]],
    settings: Settings,
    store: Store,
    ledger: Ledger,
    embedder: Embedder,
    report: IngestReport,
    progress: bool,
) -> None:
    chunked = [(doc, origin, fp, chunk_document(doc, settings.chunk_max_tokens)) for doc, origin, fp in todo]
    total = sum(len(c) for *_, c in chunked)
    tick, close = _tqdm_progress(total) if progress else ((lambda done, n: None), (lambda: None))
    try:
        group: list[tuple[Document, str, str, list[Chunk]]] = []
        size = 0
        for item in chunked:
            group.append(item)
            size += len(item[3])
            if size >= GROUP_CHUNKS:
                _write_group(group, store, ledger, embedder, report, tick)
                group, size = [], 0
        if group:
            _write_group(group, store, ledger, embedder, report, tick)
    finally:
        close()


def _write_group(
    group: list[tuple[Document, str, str, list[Chunk]]],
    store: Store,
    ledger: Ledger,
    embedder: Embedder,
    report: IngestReport,
    tick: Progress,
) -> None:
    chunks = [c for *_, cs in group for c in cs]
    t = time.perf_counter()
    vectors = embedder.embed([c.embed_text for c in chunks])
    report.embed_seconds += time.perf_counter() - t
    report.embedded_chunks += len(chunks)
    ledger.mark_writing((doc, origin, fp, len(cs)) for doc, origin, fp, cs in group)
    doc_ids = [doc.doc_id for doc, *_ in group]
    store.delete_documents(doc_ids)
    store.upsert(chunks, vectors)
    ledger.mark_done(doc_ids)
    report.written += len(group)
    tick(len(chunks), len(chunks))
