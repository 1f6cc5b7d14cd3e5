"""The public JSON shapes of answers, sources, citations and trainer prompts (``ask --json``,
``search --json``, ``prompts --json``, the feedback log, the evaluation's results), and the one-line
description of the filters an answer was restricted to. The field names are a public contract:
see the README.

Consumes domain records; produces plain dicts and strings for surfaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.refusal import in_scope, margin, reads_as
from assistant.retrieve import SearchResult
from assistant.safety import safety_notice
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


def chunk_fields(chunk: Chunk) -> dict[str, Any]:
    return {
        "source_id": chunk.doc_id,
        "title": chunk.display_heading if chunk.kind == "case_review" else chunk.title,
        "year": chunk.meta.year,
        "area": chunk.meta.area,
        "kind": chunk.kind,
    }


def citation_dict(c: Citation) -> dict[str, Any]:
    return {
        "n": c.n,
        **chunk_fields(c.chunk),
        "quote": c.quote,
        "url": c.chunk.meta.url,
        "report_type": c.chunk.meta.report_type,
        "section": c.chunk.section,
        "chunk_id": c.chunk.chunk_id,
        "source_file": c.chunk.source_file,
        "quote_start": c.quote_start,
        "quote_end": c.quote_end,
        "passage": c.chunk.text,
    }


def source_dict(hit: ReviewHit) -> dict[str, Any]:
    chunk = hit.best
    return {
        **chunk_fields(chunk),
        "score": round(hit.score, 6),
        "text": chunk.text,
        "chunk_id": chunk.chunk_id,
        "section": chunk.section,
        "age_band": chunk.meta.age_band,
        "outcome": chunk.meta.outcome,
        "nation": chunk.meta.nation,
        "keywords": list(chunk.meta.keywords),
    }


def theme_dict(theme: Theme) -> dict[str, Any]:
    return {
        "heading": theme.heading,
        "kind": theme.kind,
        "reviews": theme.reviews,
        "years": theme.years,
        "citations": list(theme.citations),
        "written_by": theme.written_by,
    }


def coverage_dict(coverage: Coverage) -> dict[str, Any]:
    return {
        "reviews": coverage.reviews,
        "years": coverage.years,
        "how": coverage.how,
        "by_nation": dict(coverage.by_nation),
        "by_age_band": dict(coverage.by_age_band),
    }


def named_dict(named: NamedSource) -> dict[str, Any]:
    return {"source_id": named.doc_id, "heading": named.heading, "by": named.by}


def search_dict(query: str, result: SearchResult) -> dict[str, Any]:
    """What ``search --json`` and ``POST /api/search`` return."""
    return {
        "query": query,
        "inferred_labels": [{"label": i.label, "score": round(i.score, 4), "how": i.how} for i in result.inferred],
        "named_sources": [named_dict(n) for n in result.named],
        "scope": scope_dict(query, result),
        "results": [source_dict(h) for h in result.hits],
    }


def scope_dict(query: str, result: SearchResult) -> dict[str, Any]:
    """Why ``ask`` would answer or refuse this question (assistant/refusal.py): how near the nearest
    NSPCC label and the nearest examples of questions the reviews don't answer are, and the margin."""
    return {
        "answerable": in_scope(result, live_concern=safety_notice(query) is not None),
        "label_similarity": round(result.label_similarity, 4),
        "off_topic_similarity": round(result.off_topic.similarity, 4),
        "margin": round(margin(result), 4),
        "reads_as": reads_as(result) or None,
    }


def message_text(answer: Answer) -> str:
    """The answer as a client shows it: the live-concern notice first, when there is one, so that a
    client that displays only the message (any OpenAI-compatible chat) still shows 999 and the NSPCC
    Helpline; then the answer; then its notes (who wrote it and how it was checked, or why the model's
    answer was replaced), as the CLI and the chat show them. ``safety_notice`` and ``notes`` still
    carry them apart for clients that lay them out themselves."""
    parts = [answer.safety_notice or "", answer.text, "\n".join(f"_{note}_" for note in answer.notes)]
    return "\n\n".join(p for p in parts if p)


def answer_dict(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": message_text(answer),
        "refused": answer.refused,
        "little": answer.little,
        "safety_notice": answer.safety_notice,
        "filters": describe_filters(answer.filters),
        "standalone_question": answer.standalone_question,
        "inferred_labels": list(answer.inferred_labels),
        "named_sources": [named_dict(n) for n in answer.named_sources],
        "focus": answer.focus,
        "read_as": list(answer.read_as),
        "written_by": answer.written_by,
        "coverage": coverage_dict(answer.coverage) if answer.coverage else None,
        "themes": [theme_dict(t) for t in answer.themes],
        "notes": list(answer.notes),
        "citations": [citation_dict(c) for c in answer.citations],
        "sources": [source_dict(h) for h in answer.sources],
    }


def prompts_dict(
    theme: str, notice: str | None, lines: Sequence[tuple[str, Sequence[int]]], citations: Sequence[Citation]
) -> dict[str, Any]:
    """Trainer prompts: each prompt's text with the citations it carries."""
    by_n = {c.n: c for c in citations}
    return {
        "theme": theme,
        "notice": notice,
        "prompts": [{"prompt": text, "citations": [citation_dict(by_n[n]) for n in cites]} for text, cites in lines],
    }
