"""Chroma, embedded on disk or a server over HTTP; the one place Chroma's shapes are converted.

Consumes ``Chunk`` + vectors; produces ``Hit`` / ``Chunk`` read back from the index. Chroma's
columnar results become domain objects in ``_to_chunk`` and nowhere else. Metadata that retrieval
filters on is stored flat: ``year``, ``nation``, ``age_band``, ``outcome``, ``kind`` and
``keywords`` (a string array, lower-cased, for ``$contains``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assistant.errors import StoreError
from assistant.settings import Settings
from assistant.types import Chunk, DocMeta, Hit

PATH_SEP = " › "


def _to_metadata(chunk: Chunk) -> dict[str, Any]:
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


def _to_chunk(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
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


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_mode == "server":
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exception/ValueError for connection failures
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_mode == "server"
            else f"the index at {settings.chroma_path}"
        )
        raise StoreError(f"cannot open {where} ({exc}); check it is running/readable, or set chroma_mode") from None


class Store:
    """The chunk index. Ids are ``doc_id#n``, so writing a document twice never duplicates it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = _client(settings)
        self._collection = self._open()

    def _open(self) -> Any:
        return self._client.get_or_create_collection(
            self.settings.collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    def reset(self) -> None:
        with contextlib.suppress(Exception):  # absent already: nothing to reset
            self._client.delete_collection(self.settings.collection)
        self._collection = self._open()

    def count(self) -> int:
        return int(self._collection.count())

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
                metadatas=[_to_metadata(c) for c in part],
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
            for cid, text, meta in zip(ids, got["documents"] or [], got["metadatas"] or [], strict=True):
                yield _to_chunk(cid, text, meta)
            offset += len(ids)

    def query(self, vector: Sequence[float], k: int, where: Mapping[str, Any] | None = None) -> list[Hit]:
        return self.query_many([vector], k, where)[0]

    def query_many(self, vectors: Sequence[Sequence[float]], k: int, where: Mapping[str, Any] | None = None) -> list[list[Hit]]:
        """One nearest-neighbour search per vector, in a single call to Chroma."""
        n = self.count()
        if n == 0:
            return [[] for _ in vectors]
        got = self._collection.query(
            query_embeddings=[list(v) for v in vectors],
            n_results=min(k, n),
            where=dict(where) if where else None,
            include=["documents", "metadatas", "distances"],
        )
        out: list[list[Hit]] = []
        for i in range(len(vectors)):
            rows = zip(got["ids"][i], (got["documents"] or [])[i], (got["metadatas"] or [])[i], (got["distances"] or [])[i], strict=True)
            out.append([Hit(chunk=_to_chunk(cid, text, meta), score=1.0 - float(dist)) for cid, text, meta, dist in rows])
        return out
