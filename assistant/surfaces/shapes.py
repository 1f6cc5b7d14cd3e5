"""The public JSON shapes of answers, sources, citations and trainer prompts (``ask --json``,
``search --json``, ``prompts --json``, the feedback log, the evaluation's results), and the one-line
description of the filters an answer was restricted to. The field names are a public contract:
see the README.

Consumes domain records; produces typed response models (pydantic: the API declares them, so
``/docs`` shows every response's shape) and the plain dicts ``--json`` prints, which are their dumps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.answers.refusal import in_scope, margin, reads_as
from assistant.question.safety import safety_notice
from assistant.retrieval.ranking import SearchResult
from records.types import Answer, Chunk, Citation, Coverage, Filters, NamedSource, ReviewHit, Theme


def describe_filters(filters: Filters) -> str | None:
    """ "filtered to infants under 1, 2019–2023" — said with the answer, so nobody forgets a filter."""
    if filters.is_empty():
        return None
    parts: list[str] = []
    if filters.age_band:
        parts.append("children aged " + " or ".join(filters.age_band))
    if filters.year_from and filters.year_from == filters.year_to:
        parts.append(f"published {filters.year_from}")
    elif filters.year_from and filters.year_to:
        parts.append(f"published {filters.year_from}–{filters.year_to}")
    elif filters.year_from:
        parts.append(f"published {filters.year_from} or later")
    elif filters.year_to:
        parts.append(f"published up to {filters.year_to}")
    for label, values in (
        ("in", filters.nation),
        ("area", filters.area),
        ("outcome", filters.outcome),
        ("keyword", filters.keyword),
        ("kind", filters.kind),
    ):
        if values:
            parts.append(f"{label} " + " or ".join(values))
    return "Filtered to " + ", ".join(parts) + "."


class Shape(BaseModel):
    """A public response shape: fields may be added, never removed or renamed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CitationOut(Shape):
    """One [n] of an answer: the source, the verbatim quote, and where the quote sits in its file."""

    n: int = Field(description="the number the answer's text marks as [n]")
    source_id: str
    title: str
    year: int | None
    area: str | None
    kind: str = Field(description="case_review, briefing, guidance or document")
    quote: str = Field(description="the exact words of the source that support the line citing it")
    url: str | None
    report_type: str | None
    section: str
    chunk_id: str
    source_file: str
    quote_start: int = Field(description="the quote's character offsets in source_file")
    quote_end: int
    passage: str = Field(description="the whole passage the quote was taken from")


class SourceOut(Shape):
    """A retrieved review (or document) and its best passage."""

    source_id: str
    title: str
    year: int | None
    area: str | None
    kind: str
    score: float
    text: str
    chunk_id: str
    section: str
    age_band: str
    outcome: str
    nation: str
    keywords: list[str]


class ThemeOut(Shape):
    heading: str
    kind: str = Field(description="finding or recommendation")
    reviews: int = Field(description="how many sources make the point")
    years: str | None
    citations: list[int] = Field(description="the [n] of every source that makes the point, the heading's first")
    written_by: str = Field(description="quote, or the model whose checked sentence heads the theme")


class CoverageOut(Shape):
    reviews: int = Field(description="reviews in the whole collection (under the filters) that discuss the topic")
    years: str | None
    how: str = Field(description="how they were counted")
    by_nation: dict[str, int]
    by_age_band: dict[str, int]


class NamedOut(Shape):
    source_id: str
    heading: str
    by: str = Field(description="how the question named it")


class AnswerOut(Shape):
    """What ``ask --json`` and ``POST /api/ask`` return."""

    question: str
    answer: str = Field(description="the live-concern notice (when there is one), the answer with its [n] markers, its notes")
    refused: bool
    little: bool = Field(description="no passage speaks squarely to the question: the reviews to read, and the nearest passages")
    safety_notice: str | None = Field(description="999 and the NSPCC Helpline, when the question reads as a child at risk now")
    filters: str | None = Field(description="the filters the answer was restricted to, in words")
    standalone_question: str | None = Field(description="a follow-up as it was searched")
    inferred_labels: list[str]
    named_sources: list[NamedOut]
    focus: str | None
    read_as: list[str] = Field(description="the filters read from the question")
    written_by: str
    coverage: CoverageOut | None
    themes: list[ThemeOut]
    notes: list[str]
    citations: list[CitationOut]
    sources: list[SourceOut]


class InferredLabelOut(Shape):
    label: str
    score: float
    how: str


class ScopeOut(Shape):
    """Why ``ask`` would answer or refuse this question."""

    answerable: bool
    label_similarity: float
    off_topic_similarity: float
    margin: float
    reads_as: str | None


class SearchOut(Shape):
    """What ``search --json`` and ``POST /api/search`` return."""

    query: str
    inferred_labels: list[InferredLabelOut]
    named_sources: list[NamedOut]
    scope: ScopeOut
    results: list[SourceOut]


class PromptOut(Shape):
    prompt: str
    citations: list[CitationOut]


class PromptsOut(Shape):
    """What ``prompts --json`` and ``POST /api/prompts`` return."""

    theme: str
    notice: str | None
    prompts: list[PromptOut]


class KeywordCount(Shape):
    keyword: str
    reviews: int


class ExcludedOut(Shape):
    source_file: str
    title: str
    reason: str


class StatsOut(Shape):
    """What ``stats --json`` and ``GET /api/stats`` return."""

    documents: int
    reviews: int
    chunks: int
    by_kind: dict[str, int]
    by_year: dict[str, int]
    by_nation: dict[str, int]
    by_age_band: dict[str, int]
    by_outcome: dict[str, int]
    top_keywords: list[KeywordCount]
    excluded: list[ExcludedOut]


def chunk_fields(chunk: Chunk) -> dict[str, Any]:
    return {
        "source_id": chunk.doc_id,
        "title": chunk.display_heading if chunk.kind == "case_review" else chunk.title,
        "year": chunk.meta.year,
        "area": chunk.meta.area,
        "kind": chunk.kind,
    }


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        n=c.n,
        **chunk_fields(c.chunk),
        quote=c.quote,
        url=c.chunk.meta.url,
        report_type=c.chunk.meta.report_type,
        section=c.chunk.section,
        chunk_id=c.chunk.chunk_id,
        source_file=c.chunk.source_file,
        quote_start=c.quote_start,
        quote_end=c.quote_end,
        passage=c.chunk.text,
    )


def source_out(hit: ReviewHit) -> SourceOut:
    chunk = hit.best
    return SourceOut(
        **chunk_fields(chunk),
        score=round(hit.score, 6),
        text=chunk.text,
        chunk_id=chunk.chunk_id,
        section=chunk.section,
        age_band=chunk.meta.age_band,
        outcome=chunk.meta.outcome,
        nation=chunk.meta.nation,
        keywords=list(chunk.meta.keywords),
    )


def citation_dict(c: Citation) -> dict[str, Any]:
    return citation_out(c).model_dump()


def source_dict(hit: ReviewHit) -> dict[str, Any]:
    return source_out(hit).model_dump()


def theme_out(theme: Theme) -> ThemeOut:
    return ThemeOut(
        heading=theme.heading,
        kind=theme.kind,
        reviews=theme.reviews,
        years=theme.years,
        citations=list(theme.citations),
        written_by=theme.written_by,
    )


def coverage_out(coverage: Coverage) -> CoverageOut:
    return CoverageOut(
        reviews=coverage.reviews,
        years=coverage.years,
        how=coverage.how,
        by_nation=dict(coverage.by_nation),
        by_age_band=dict(coverage.by_age_band),
    )


def named_out(named: NamedSource) -> NamedOut:
    return NamedOut(source_id=named.doc_id, heading=named.heading, by=named.by)


def search_out(query: str, result: SearchResult) -> SearchOut:
    return SearchOut(
        query=query,
        inferred_labels=[InferredLabelOut(label=i.label, score=round(i.score, 4), how=i.how) for i in result.inferred],
        named_sources=[named_out(n) for n in result.named],
        scope=scope_out(query, result),
        results=[source_out(h) for h in result.hits],
    )


def search_dict(query: str, result: SearchResult) -> dict[str, Any]:
    """What ``search --json`` and ``POST /api/search`` return."""
    return search_out(query, result).model_dump()


def scope_out(query: str, result: SearchResult) -> ScopeOut:
    """Why ``ask`` would answer or refuse this question (assistant/answers/refusal.py): how near the nearest
    NSPCC label and the nearest examples of questions the reviews don't answer are, and the margin."""
    return ScopeOut(
        answerable=in_scope(result, live_concern=safety_notice(query) is not None),
        label_similarity=round(result.label_similarity, 4),
        off_topic_similarity=round(result.off_topic.similarity, 4),
        margin=round(margin(result), 4),
        reads_as=reads_as(result) or None,
    )


def message_text(answer: Answer) -> str:
    """The answer as a client shows it: the live-concern notice first, when there is one, so that a
    client that displays only the message (any OpenAI-compatible chat) still shows 999 and the NSPCC
    Helpline; then the answer; then its notes (who wrote it and how it was checked, or why the model's
    answer was replaced), as the CLI and the chat show them. ``safety_notice`` and ``notes`` still
    carry them apart for clients that lay them out themselves."""
    parts = [answer.safety_notice or "", answer.text, "\n".join(f"_{note}_" for note in answer.notes)]
    return "\n\n".join(p for p in parts if p)


def answer_out(answer: Answer) -> AnswerOut:
    return AnswerOut(
        question=answer.question,
        answer=message_text(answer),
        refused=answer.refused,
        little=answer.little,
        safety_notice=answer.safety_notice,
        filters=describe_filters(answer.filters),
        standalone_question=answer.standalone_question,
        inferred_labels=list(answer.inferred_labels),
        named_sources=[named_out(n) for n in answer.named_sources],
        focus=answer.focus,
        read_as=list(answer.read_as),
        written_by=answer.written_by,
        coverage=coverage_out(answer.coverage) if answer.coverage else None,
        themes=[theme_out(t) for t in answer.themes],
        notes=list(answer.notes),
        citations=[citation_out(c) for c in answer.citations],
        sources=[source_out(h) for h in answer.sources],
    )


def answer_dict(answer: Answer) -> dict[str, Any]:
    return answer_out(answer).model_dump()


def prompts_out(theme: str, notice: str | None, lines: Sequence[tuple[str, Sequence[int]]], citations: Sequence[Citation]) -> PromptsOut:
    """Trainer prompts: each prompt's text with the citations it carries."""
    by_n = {c.n: c for c in citations}
    return PromptsOut(
        theme=theme,
        notice=notice,
        prompts=[PromptOut(prompt=text, citations=[citation_out(by_n[n]) for n in cites]) for text, cites in lines],
    )


def prompts_dict(
    theme: str, notice: str | None, lines: Sequence[tuple[str, Sequence[int]]], citations: Sequence[Citation]
) -> dict[str, Any]:
    return prompts_out(theme, notice, lines, citations).model_dump()
