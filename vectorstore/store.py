"""Chroma, embedded on disk or a server over HTTP; the one place Chroma's shapes are converted.

Consumes ``Chunk`` + vectors and ``Filters``; produces ``Hit`` / ``Chunk`` read back from the index.
Chroma's columnar results become domain objects in ``chunk_from_row`` and nowhere else (the
catalog, vectorstore/catalog.py, keeps first chunks in the same row form), and ``Filters``
become Chroma's ``where`` in ``_where`` and nowhere else. Metadata that retrieval filters on is stored
flat: ``year``, ``nation``, ``age_band``, ``outcome``, ``kind`` and ``keywords`` (a string array,
lower-cased, for ``$contains``). The store is opened on a ``StoreLocation`` (where the index is), not
on the whole settings.

The collection's own metadata holds the index's identity, which every process that can reach Chroma
reads (``IndexState``): the generation (bumped when an ingest that changed something finishes), the
chunk count it finished with, and the lease of the ingest writing now, if any (vectorstore/lease.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from records.errors import StoreError
from records.settings import Settings
from records.types import Chunk, DocMeta, Filters, Hit

PATH_SEP = " › "


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    m = chunk.meta
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "section": chunk.section,
        "heading_path": PATH_SEP.join(chunk.heading_path),
        "kind": chunk.kind,
        "title": chunk.title,
        "heading": chunk.heading,
        "source_file": chunk.source_file,
        "nation": m.nation,
        "age_band": m.age_band,
        "outcome": m.outcome,
    }
    optional = {
        "year": m.year,
        "area": m.area,
        "age_months": m.age_months,
        "report_type": m.report_type,
        "url": m.url,
        "publisher": m.publisher,
    }
    meta.update({k: v for k, v in optional.items() if v is not None})
    if m.keywords:
        meta["keywords"] = [k.lower() for k in m.keywords]
        meta["keywords_display"] = "; ".join(m.keywords)
    return meta


def chunk_from_row(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    keywords = tuple(str(meta["keywords_display"]).split("; ")) if meta.get("keywords_display") else ()
    path = str(meta.get("heading_path") or "")
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        index=int(meta["index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        section=str(meta.get("section", "")),
        heading_path=tuple(path.split(PATH_SEP)) if path else (),
        kind=str(meta["kind"]),
        title=str(meta["title"]),
        heading=str(meta["heading"]),
        source_file=str(meta["source_file"]),
        meta=DocMeta(
            year=int(meta["year"]) if "year" in meta else None,
            area=meta.get("area"),
            nation=str(meta.get("nation", "unknown")),
            age_months=float(meta["age_months"]) if "age_months" in meta else None,
            age_band=str(meta.get("age_band", "multiple/unknown")),
            outcome=str(meta.get("outcome", "other")),
            keywords=keywords,
            report_type=meta.get("report_type"),
            url=meta.get("url"),
            publisher=meta.get("publisher"),
        ),
    )


def _where(filters: Filters) -> dict[str, Any] | None:
    """``Filters`` as Chroma's ``where``: ranges on year, ``$in`` on the categorical fields, and
    ``$contains`` on the keyword array (any of the wanted keywords)."""
    clauses: list[dict[str, Any]] = []
    if filters.year_from is not None:
        clauses.append({"year": {"$gte": filters.year_from}})
    if filters.year_to is not None:
        clauses.append({"year": {"$lte": filters.year_to}})
    for field_name, values in (
        ("nation", filters.nation),
        ("age_band", filters.age_band),
        ("outcome", filters.outcome),
        ("kind", filters.kind),
        ("area", filters.area),
    ):
        if values:
            clauses.append({field_name: {"$in": list(values)}})
    if filters.keyword:
        kw = [{"keywords": {"$contains": k}} for k in filters.keyword]
        clauses.append(kw[0] if len(kw) == 1 else {"$or": kw})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _chunks(got: Mapping[str, Any]) -> Iterator[Chunk]:
    """The chunks of a Chroma ``get`` result that included documents and metadatas."""
    for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
        yield chunk_from_row(cid, text, meta)


@dataclass(frozen=True)
class StoreLocation:
    """Where the index is: a folder for embedded Chroma (``path``), or a ``chroma run`` server."""

    collection: str
    path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def of(cls, settings: Settings) -> StoreLocation:
        if settings.chroma_mode == "server":
            return cls(collection=settings.collection, host=settings.chroma_host, port=settings.chroma_port)
        return cls(collection=settings.collection, path=settings.chroma_path)

    def describe(self) -> str:
        return f"the index at {self.path}" if self.path is not None else f"the Chroma server at {self.host}:{self.port}"


def _client(location: StoreLocation) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if location.path is None:
            return chromadb.HttpClient(host=location.host, port=location.port, settings=chroma_settings)
        location.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(location.path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exception/ValueError for connection failures
        raise StoreError(f"cannot open {location.describe()} ({exc}); check it is running/readable, or set chroma_mode") from None


def open_store(settings: Settings) -> Store:
    return Store(StoreLocation.of(settings))


@dataclass(frozen=True)
class IndexState:
    """The index's identity as the collection's metadata records it (all zero for an index that an
    older Casebook wrote, or that no ingest has finished yet)."""

    generation: int = 0
    chunks: int = 0
    writer: str = ""  # the ingest holding the lease: "pid 12 on host-a since 2026-12-02 04:50:01"
    token: str = ""  # that ingest's own random token ("" when none holds it)
    lease_until: float = 0.0  # unix time; a lease not renewed by then has lapsed (a killed ingest)

    def as_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"casebook_generation": self.generation, "casebook_chunks": self.chunks}
        if self.token:
            meta |= {"casebook_writer": self.writer, "casebook_token": self.token, "casebook_lease_until": self.lease_until}
        return meta

    @classmethod
    def of(cls, meta: Mapping[str, Any] | None) -> IndexState:
        m = meta or {}
        return cls(
            generation=int(m.get("casebook_generation", 0)),
            chunks=int(m.get("casebook_chunks", 0)),
            writer=str(m.get("casebook_writer", "")),
            token=str(m.get("casebook_token", "")),
            lease_until=float(m.get("casebook_lease_until", 0.0)),
        )


class Store:
    """The chunk index. Ids are ``doc_id#n``, so writing a document twice never duplicates it."""

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._client = _client(location)
        self._collection = self._open()

    def _open(self) -> Any:
        return self._client.get_or_create_collection(
            self.location.collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    def reset(self) -> None:
        with contextlib.suppress(Exception):  # absent already: nothing to reset
            self._client.delete_collection(self.location.collection)
        self._collection = self._open()

    def count(self) -> int:
        return int(self._collection.count())

    def state(self) -> IndexState:
        """The identity recorded in the collection's metadata, read afresh (one small request)."""
        try:
            return IndexState.of(self._client.get_collection(self.location.collection).metadata)
        except Exception as exc:  # chromadb raises plain exceptions for a collection gone or a server down
            raise StoreError(f"cannot read the index's state from {self.location.describe()} ({exc}); check it is running") from None

    def set_state(self, state: IndexState) -> None:
        """Record the index's identity (it replaces the collection's metadata whole)."""
        self._collection.modify(metadata=state.as_metadata())

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(vectors):
            raise StoreError(f"expected one vector per chunk, got {len(vectors)} for {len(chunks)}")
        step = max(1, int(self._client.get_max_batch_size()))
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=[list(v) for v in vectors[i : i + step]],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        for i in range(0, len(doc_ids), 500):
            part = list(doc_ids[i : i + 500])
            self._collection.delete(where={"doc_id": {"$in": part}} if len(part) > 1 else {"doc_id": part[0]})

    def ids_by_document(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        got = self._collection.get(include=["metadatas"])
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            out.setdefault(str(meta["doc_id"]), set()).add(cid)
        return out

    def all_chunks(self, batch: int = 2000) -> Iterator[Chunk]:
        offset = 0
        while True:
            got = self._collection.get(include=["documents", "metadatas"], limit=batch, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            yield from _chunks(got)
            offset += len(ids)

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids (absent ones are left out)."""
        if not chunk_ids:
            return {}
        got = self._collection.get(ids=list(dict.fromkeys(chunk_ids)), include=["documents", "metadatas"])
        return {c.chunk_id: c for c in _chunks(got)}

    def document_chunks(self, doc_ids: Sequence[str]) -> dict[str, list[Chunk]]:
        """Every chunk of these documents, in order (a filter on the doc_id metadata, not a scan)."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return {}
        where = {"doc_id": {"$in": wanted}} if len(wanted) > 1 else {"doc_id": wanted[0]}
        got = self._collection.get(where=where, include=["documents", "metadatas"])
        out: dict[str, list[Chunk]] = {d: [] for d in wanted}
        for c in _chunks(got):
            out[c.doc_id].append(c)
        for chunks in out.values():
            chunks.sort(key=lambda c: c.index)
        return out

    def all_with_vectors(self, batch: int = 2000) -> Iterator[tuple[Chunk, list[float]]]:
        """Every chunk with its stored vector (for copying an index, e.g. benchmarks/scale.py)."""
        offset = 0
        while True:
            got = self._collection.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            ids = got["ids"]
            if not len(ids):
                return
            rows = zip(ids, got["documents"] or [], got["metadatas"] or [], got["embeddings"], strict=True)
            for cid, text, meta, vector in rows:
                yield chunk_from_row(cid, text, meta), [float(x) for x in vector]
            offset += len(ids)

    def query(self, vector: Sequence[float], k: int, filters: Filters = Filters()) -> list[Hit]:
        return self.query_many([vector], k, filters)[0]

    def query_many(self, vectors: Sequence[Sequence[float]], k: int, filters: Filters = Filters()) -> list[list[Hit]]:
        """One nearest-neighbour search per vector, in a single call to Chroma."""
        where = _where(filters)
        # No count first: Chroma returns what there is when k exceeds it, and counting costs ~9 ms
        # at 120k chunks, on every question.
        got = self._collection.query(
            query_embeddings=[list(v) for v in vectors],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        out: list[list[Hit]] = []
        for i in range(len(vectors)):
            rows = zip(got["ids"][i], (got["documents"] or [])[i], (got["metadatas"] or [])[i], (got["distances"] or [])[i], strict=True)
            out.append([Hit(chunk=chunk_from_row(cid, text, meta), score=1.0 - float(dist)) for cid, text, meta, dist in rows])
        return out
