"""Typed, frozen domain objects that travel between layers.

ingest produces ``Review`` / ``Document`` / ``Chunk``; the store returns ``Hit``; the assistant
produces ``Citation`` and ``Answer``. Chroma and LangChain objects are converted at their boundary,
never passed on. This module is a leaf: it imports nothing from the rest of Casebook.

Offsets (``start``/``end``) are always character offsets into the *normalised* text of the source
file (see ``ingest.sources.normalise``), so ``source_text[start:end] == text`` can always be checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["case_review", "briefing", "guidance", "document"]
KINDS: tuple[str, ...] = ("case_review", "briefing", "guidance", "document")
NATIONS: tuple[str, ...] = (
    "England",
    "Wales",
    "Scotland",
    "Northern Ireland",
    "Channel Islands",
    "Isle of Man",
    "unknown",
)
AGE_BANDS: tuple[str, ...] = ("unborn", "under 1", "1-4", "5-10", "11-15", "16-17", "multiple/unknown")
OUTCOMES: tuple[str, ...] = ("death", "serious harm", "other")
REPORT_TYPES: tuple[str, ...] = ("overview report", "executive summary")


@dataclass(frozen=True)
class Section:
    """A natural unit of a document: a review's summary / learning / recommendations, or a
    briefing section under its heading path."""

    name: str
    start: int
    end: int
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    """One NSPCC case-review listing entry."""

    review_id: str
    year: int
    area: str
    nation: str
    title: str
    heading: str
    summary: str
    learning: str
    recommendations: str
    keywords: tuple[str, ...]
    report_type: str | None
    age_months: float | None
    age_band: str
    outcome: str
    source_file: str
    start: int
    end: int
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class DocMeta:
    """What retrieval filters on and citations show."""

    year: int | None = None
    area: str | None = None
    nation: str = "unknown"
    age_months: float | None = None
    age_band: str = "multiple/unknown"
    outcome: str = "other"
    keywords: tuple[str, ...] = ()
    report_type: str | None = None
    url: str | None = None
    publisher: str | None = None


@dataclass(frozen=True)
class Document:
    """A unit of ingest: one review, one briefing, one kept page, or one user file."""

    doc_id: str
    kind: str
    title: str
    heading: str
    source_file: str
    source_text: str = field(repr=False)
    start: int
    end: int
    sections: tuple[Section, ...]
    meta: DocMeta = DocMeta()

    @property
    def text(self) -> str:
        return self.source_text[self.start : self.end]

    def fingerprint(self, salt: str) -> str:
        """Changes whenever anything that ends up in the index would change."""
        h = hashlib.sha256(salt.encode())
        for part in (self.kind, self.title, self.heading, self.source_file, repr(self.meta), repr(self.sections)):
            h.update(part.encode())
            h.update(b"\0")
        h.update(self.text.encode())
        return h.hexdigest()


@dataclass(frozen=True)
class Chunk:
    """An exact slice ``source_text[start:end]`` of a document's source, with its parent's metadata."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    section: str
    heading_path: tuple[str, ...]
    kind: str
    title: str
    heading: str
    source_file: str
    meta: DocMeta

    @property
    def display_heading(self) -> str:
        """How a citation names its source: a review's heading, else the first two heading levels."""
        return self.heading if self.kind == "case_review" else " › ".join(self.heading_path[:2]) or self.title

    @property
    def embed_text(self) -> str:
        """What the embedder sees: the passage with its context, so a learning point is found by the
        review it belongs to as well as by its own words. Never shown or quoted."""
        context = " › ".join(self.heading_path) if self.heading_path else self.heading
        label = f" ({self.section})" if self.section and self.section not in context else ""
        return f"{context}{label}: {self.text}"


@dataclass(frozen=True)
class Exclusion:
    """A page ingest chose not to index, and why."""

    source_file: str
    title: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"source_file": self.source_file, "title": self.title, "reason": self.reason}


@dataclass(frozen=True)
class SourceProblem:
    """A file ingest could not read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its score (higher is better; the scale depends on who scored it)."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Filters:
    """What a question is restricted to. Empty tuples and None mean "any"."""

    year_from: int | None = None
    year_to: int | None = None
    nation: tuple[str, ...] = ()
    age_band: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    area: tuple[str, ...] = ()  # the partnership or area a review names ("Norfolk", "City and Hackney")

    def is_empty(self) -> bool:
        return self == Filters()

    def matches(self, chunk: Chunk) -> bool:
        m = chunk.meta
        if self.year_from is not None and (m.year is None or m.year < self.year_from):
            return False
        if self.year_to is not None and (m.year is None or m.year > self.year_to):
            return False
        if self.nation and m.nation not in self.nation:
            return False
        if self.age_band and m.age_band not in self.age_band:
            return False
        if self.outcome and m.outcome not in self.outcome:
            return False
        if self.kind and chunk.kind not in self.kind:
            return False
        if self.area and m.area not in self.area:
            return False
        if self.keyword:
            have = {k.lower() for k in m.keywords}
            if not any(k in have for k in self.keyword):
                return False
        return True


@dataclass(frozen=True)
class ReviewHit:
    """One source (review, briefing, page) found for a question, with its best passages."""

    doc_id: str
    score: float
    passages: tuple[Hit, ...]

    @property
    def best(self) -> Chunk:
        return self.passages[0].chunk


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    quote: str
    quote_start: int  # offsets of the quote in the normalised source text
    quote_end: int

    @classmethod
    def at(cls, n: int, chunk: Chunk, quote: str, offset: int) -> Citation:
        """Citation ``n`` of ``quote``, which stands at ``offset`` in ``chunk.text``."""
        start = chunk.start + offset
        return cls(n=n, chunk=chunk, quote=quote, quote_start=start, quote_end=start + len(quote))


@dataclass(frozen=True)
class Theme:
    """A finding or recommendation several sources share: its headline is a verbatim clause (the
    most central of its group) or, with a language model, a checked sentence written from them."""

    heading: str
    kind: str  # "finding" or "recommendation"
    reviews: int  # sources that make the point
    years: str | None  # "2019–2023" over those sources
    citations: tuple[int, ...]  # a citation of every source that makes the point, headline's first
    written_by: str = "quote"  # "quote", or the backend whose checked sentence replaced it


@dataclass(frozen=True)
class Coverage:
    """How much of the collection discusses a question's topic, counted over the whole collection
    under the active filters (not only the cited sources), and how it was counted."""

    reviews: int
    years: str | None
    how: str
    by_nation: tuple[tuple[str, int], ...] = ()
    by_age_band: tuple[tuple[str, int], ...] = ()
    approximate: str | None = None  # the nearest label, when it matches too loosely or too broadly to count by


@dataclass(frozen=True)
class NamedSource:
    """A source the question names itself ("the Sutton review of Child X"), and how it was read."""

    doc_id: str
    heading: str
    by: str  # "name and area", "name", "area" (its only review) or "title"


@dataclass(frozen=True)
class Point:
    """A clause of one source, quoted verbatim, and how well it matches what was asked."""

    hit: ReviewHit
    chunk: Chunk
    quote: str
    offset: int  # of the quote within chunk.text
    score: float

    @property
    def section(self) -> str:
        return self.chunk.section

    def cite(self, n: int) -> Citation:
        return Citation.at(n, self.chunk, self.quote, self.offset)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    safety_notice: str | None
    citations: tuple[Citation, ...]
    sources: tuple[ReviewHit, ...]
    filters: Filters = Filters()
    standalone_question: str | None = None
    notes: tuple[str, ...] = ()
    inferred_labels: tuple[str, ...] = ()  # NSPCC labels retrieval inferred the question is about
    named_sources: tuple[NamedSource, ...] = ()  # sources the question names, put first
    themes: tuple[Theme, ...] = ()  # a themed answer's findings and recommendations, in order
    coverage: Coverage | None = None  # how many reviews discuss the topic (themed answers)
    focus: str | None = None  # a follow-up's new aspect, which its points are about
    read_as: tuple[str, ...] = ()  # filters read from the question itself, in words
    written_by: str = "extractive"  # or the model's label when its checked text is the answer, or "fallback"
    little: bool = False  # no clause on the question squarely enough to head a theme: the nearest shown as such


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of one document: where it came from, the fingerprint of what was
    indexed, and whether its chunks were fully written (``done``) or a run stopped mid-way (``writing``)."""

    doc_id: str
    origin: str
    fingerprint: str
    status: str


@dataclass(frozen=True)
class IndexedDocument:
    """A fully indexed document as the ledger records it: what ``stats`` counts."""

    doc_id: str
    kind: str
    chunks: int
    title: str
    heading: str
    source_file: str
    meta: DocMeta


@dataclass(frozen=True)
class Stats:
    """What the index holds. ``as_dict`` is the public JSON shape of ``casebook stats --json``."""

    documents: int
    reviews: int
    chunks: int
    by_kind: dict[str, int]
    by_year: dict[str, int]
    by_nation: dict[str, int]
    by_age_band: dict[str, int]
    by_outcome: dict[str, int]
    top_keywords: tuple[tuple[str, int], ...]
    excluded: tuple[Exclusion, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "reviews": self.reviews,
            "chunks": self.chunks,
            "by_kind": self.by_kind,
            "by_year": self.by_year,
            "by_nation": self.by_nation,
            "by_age_band": self.by_age_band,
            "by_outcome": self.by_outcome,
            "top_keywords": [{"keyword": k, "reviews": n} for k, n in self.top_keywords],
            "excluded": [e.as_dict() for e in self.excluded],
        }
