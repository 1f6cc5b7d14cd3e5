"""Hand-built domain records for unit tests: passages (``Chunk``), sources (``ReviewHit``) and answers."""

from __future__ import annotations

from records.types import Answer, Chunk, Citation, DocMeta, Filters, Hit, ReviewHit


def passage(
    text: str,
    *,
    doc: str = "doc",
    index: int = 0,
    section: str = "learning",
    kind: str = "case_review",
    heading: str = "2021 – Leeds – Child Dan",
    start: int = 100,
    year: int | None = 2021,
    **meta: object,
) -> Chunk:
    """A passage that stands at ``start`` in its source: ``source[start:start + len(text)] == text``."""
    return Chunk(
        chunk_id=f"{doc}#{index}",
        doc_id=doc,
        index=index,
        text=text,
        start=start,
        end=start + len(text),
        section=section,
        heading_path=(heading,),
        kind=kind,
        title=heading.split(" – ")[-1],
        heading=heading,
        source_file=f"{doc}.txt",
        meta=DocMeta(year=year, **meta),  # type: ignore[arg-type]
    )


def source(*chunks: Chunk, score: float = 1.0) -> ReviewHit:
    return ReviewHit(doc_id=chunks[0].doc_id, score=score, passages=tuple(Hit(chunk=c, score=score) for c in chunks))


def cited_answer(question: str, text: str, citations: tuple[Citation, ...], **fields: object) -> Answer:
    sources = tuple(source(c.chunk) for c in citations)
    values: dict[str, object] = {"safety_notice": None, "filters": Filters(), **fields}
    return Answer(question=question, text=text, refused=False, citations=citations, sources=sources, **values)  # type: ignore[arg-type]
