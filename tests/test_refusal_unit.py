"""assistant/refusal.py ``in_scope``: the decision's rules, on hand-made search results."""

from __future__ import annotations

from assistant.refusal import in_scope
from assistant.retrieve import SearchResult
from records.types import Chunk, DocMeta, Hit, NamedSource, ReviewHit

CHUNK = Chunk(
    chunk_id="c",
    doc_id="d",
    index=0,
    text="text",
    start=0,
    end=4,
    section="summary",
    heading_path=("h",),
    kind="case_review",
    title="t",
    heading="2022 – Sutton – Child X",
    source_file="f",
    meta=DocMeta(),
)
HITS = [ReviewHit(doc_id="d", score=1.0, passages=(Hit(chunk=CHUNK, score=0.1),))]


def result(similarity: float, label_similarity: float = 0.0, **extra: object) -> SearchResult:
    return SearchResult(hits=HITS, similarity=similarity, vocabulary=(), label_similarity=label_similarity, **extra)  # type: ignore[arg-type]


def test_weak_evidence_is_refused_and_strong_answered() -> None:
    assert not in_scope(result(0.1, 0.2))
    assert in_scope(result(0.6))
    assert in_scope(result(0.3, 0.6))


def test_a_concept_or_a_live_concern_needs_only_a_weak_passage() -> None:
    assert not in_scope(result(0.25, 0.3))
    assert in_scope(result(0.25, 0.3, concepts=("bruising",)))
    assert in_scope(result(0.25, 0.3), live_concern=True)


def test_a_question_naming_a_source_is_answered_from_it() -> None:
    assert in_scope(result(0.1, 0.1, named=(NamedSource("d", "2022 – Sutton – Child X", "name and area"),)))


def test_nothing_found_is_refused_even_when_named() -> None:
    empty = SearchResult(hits=[], similarity=0.9, vocabulary=(), named=(NamedSource("d", "h", "title"),))
    assert not in_scope(empty)
