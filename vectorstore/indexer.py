"""The ingest run: sources → documents → chunks → vectors → Chroma, incrementally and safely.

Consumes ``Settings`` and optional paths (none means the bundled collection); produces an
``IngestReport``. Unchanged documents (same fingerprint, fully written) cost no embedding work. A
changed document's chunks are replaced; documents that a source no longer yields are removed.
Writes go through the ledger (vectorstore/ledger.py): ``writing`` before the store is touched,
``done`` after, and a run first repairs whatever an interrupted run left ``writing``. Its last step
brings the retrieval catalog (vectorstore/catalog.py) up to date with the index.

A user's file that cannot be read, parsed or chunked is skipped with its reason (``errors``), and so
is every link or special file the folder search would not follow; hidden files are counted. A
skipped file changes nothing already indexed: its earlier version, if any, stays as it was. Long
phases (reading files, chunking, embedding) show their progress on stderr.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.bundled import Parsed, parse_collection
from ingest.chunking import chunk_document
from ingest.files import load_user_file
from ingest.sources import find_files, shown
from records.errors import SourceError, StoreError
from records.settings import Settings
from records.types import Chunk, Document, Exclusion, SourceProblem
from vectorstore.catalog import open_catalog
from vectorstore.embedder import Embedder, load_embedder
from vectorstore.lease import IngestLease
from vectorstore.ledger import Ledger
from vectorstore.store import IndexState, Store, open_store

# Bump when parsing or chunking changes what a document becomes, so every document is redone.
PIPELINE_VERSION = "casebook-ingest-1"
BUNDLED = "bundled"
# Chunks embedded per store write: large enough to keep the model busy, small enough that an
# interrupted run loses little.
GROUP_CHUNKS = 512
# Chunks per call to the embedder inside a group, so progress moves within one long document.
EMBED_SLICE = 128


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
    hidden_files: int = 0
    hidden_folders: int = 0
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
            "hidden_files": self.hidden_files,
            "hidden_folders": self.hidden_folders,
            "seconds": round(self.seconds, 2),
        }


# On a terminal, a phase shows a bar once it has run BAR_DELAY seconds. In a log (stderr not a
# terminal), a large phase says so when it starts and then every LOG_EVERY seconds, so a long run
# is visibly alive and a short one prints nothing.
BAR_DELAY = 1.0
LOG_EVERY = 30.0
LARGE = {"file": 20, "document": 100, "chunk": 500}


class _Progress:
    """One phase's progress on stderr: ``update(n)`` as work is done, ``close()`` at the end."""

    def __init__(self, total: int, unit: str, desc: str, *, enabled: bool) -> None:
        self.total, self.unit, self.desc = total, unit, desc
        self.done = 0
        self._bar = None
        self._logging = enabled and not sys.stderr.isatty() and total >= LARGE[unit]
        self._last = time.monotonic()
        if enabled and sys.stderr.isatty() and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, desc=desc, delay=BAR_DELAY, file=sys.stderr, leave=False)
        elif self._logging:
            print(f"casebook: {desc} {total:,} {unit}s…", file=sys.stderr, flush=True)

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._logging and time.monotonic() - self._last >= LOG_EVERY:
            self._last = time.monotonic()
            print(f"casebook: {self.desc}: {self.done:,} of {self.total:,} {self.unit}s done", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _parse_sources(paths: Sequence[Path] | None, report: IngestReport, progress: bool) -> dict[str, Parsed]:
    """origin → what it yields. Unreadable files, and whatever the folder search skipped, are
    reported and left out."""
    if not paths:
        return {BUNDLED: parse_collection()}
    found = find_files(paths)
    report.errors.extend(found.skipped)
    report.hidden_files, report.hidden_folders = found.hidden_files, found.hidden_folders
    out: dict[str, Parsed] = {}
    bar = _Progress(len(found.files), "file", "reading", enabled=progress)
    try:
        for path in found.files:
            try:
                out[str(path.resolve())] = load_user_file(path)
            except SourceError as exc:
                report.errors.append(SourceProblem(path=shown(path), reason=str(exc)))
            bar.update(1)
    finally:
        bar.close()
    return out


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
    # Server mode: workers on other machines share the collection, so the one-writer rule lives in it.
    lease = IngestLease(open_store(settings), settings.ingest_lease_s) if settings.chroma_mode == "server" else None
    before = lease.acquire() if lease else store.state()
    ledger = Ledger(settings.state_path)
    try:
        if rebuild:
            store.reset()
            ledger.reset()
            if lease:
                lease.renew()  # the collection was recreated, and its metadata with it
        unfinished = ledger.unfinished()
        if unfinished:
            store.delete_documents(unfinished)
            ledger.forget(unfinished)
            report.repaired = len(unfinished)

        by_origin = _parse_sources(paths, report, progress)
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
        report.chunks = store.count()  # the whole index, whichever home ingested what
    except BaseException:
        if lease:
            lease.abandon()
        raise
    finally:
        ledger.close()
    # The index's identity, where every worker reads it: a new generation when anything changed.
    changed = bool(rebuild or report.repaired or report.removed or todo)
    if lease:
        lease.release(changed=changed)
    else:
        store.set_state(IndexState(generation=before.generation + changed, chunks=store.count()))
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
    chunked = _chunk(todo, settings.chunk_max_tokens, report, progress)
    bar = _Progress(sum(len(c) for *_, c in chunked), "chunk", "embedding", enabled=progress)
    try:
        group: list[tuple[Document, str, str, list[Chunk]]] = []
        size = 0
        for item in chunked:
            group.append(item)
            size += len(item[3])
            if size >= GROUP_CHUNKS:
                _write_group(group, store, ledger, embedder, report, bar)
                group, size = [], 0
        if group:
            _write_group(group, store, ledger, embedder, report, bar)
    finally:
        bar.close()


def _chunk(
    todo: list[tuple[Document, str, str]], max_tokens: int, report: IngestReport, progress: bool
) -> list[tuple[Document, str, str, list[Chunk]]]:
    """Each document's chunks. A document that cannot be chunked is reported and left as the index
    has it (not written, so an earlier version stays)."""
    out: list[tuple[Document, str, str, list[Chunk]]] = []
    bar = _Progress(len(todo), "document", "chunking", enabled=progress)
    try:
        for doc, origin, fp in todo:
            try:
                out.append((doc, origin, fp, chunk_document(doc, max_tokens)))
            except Exception as exc:
                name = shown(doc.source_file)
                report.errors.append(
                    SourceProblem(
                        path=name,
                        reason=f"{name}: could not be cut into passages ({exc.__class__.__name__}: {shown(str(exc))[:200]}); "
                        "the index keeps its earlier version, if any; report this with the file",
                    )
                )
            bar.update(1)
    finally:
        bar.close()
    return out


def _write_group(
    group: list[tuple[Document, str, str, list[Chunk]]],
    store: Store,
    ledger: Ledger,
    embedder: Embedder,
    report: IngestReport,
    bar: _Progress,
) -> None:
    chunks = [c for *_, cs in group for c in cs]
    vectors: list[list[float]] = []
    for i in range(0, len(chunks), EMBED_SLICE):
        part = chunks[i : i + EMBED_SLICE]
        t = time.perf_counter()
        vectors.extend(embedder.embed([c.embed_text for c in part]))
        report.embed_seconds += time.perf_counter() - t
        report.embedded_chunks += len(part)
        bar.update(len(part))
    ledger.mark_writing((doc, origin, fp, len(cs)) for doc, origin, fp, cs in group)
    doc_ids = [doc.doc_id for doc, *_ in group]
    store.delete_documents(doc_ids)
    store.upsert(chunks, vectors)
    ledger.mark_done(doc_ids)
    report.written += len(group)
