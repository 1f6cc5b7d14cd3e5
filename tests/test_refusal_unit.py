"""assistant/answers/refusal.py ``in_scope``: the decision's rules, on hand-made search results."""

from __future__ import annotations

from assistant.answers.refusal import ANSWERABLE, OFF_TOPIC_WEIGHT, STRONG_PASSAGE, in_scope, reads_as, refusal
from assistant.question.scope import OffTopic
from assistant.retrieval.ranking import SearchResult
from records.types import Chunk, DocMeta, Filters, Hit, NamedSource, ReviewHit

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


# off_topic: a typical value for a question (its three nearest off-topic examples are rarely unlike it).
def result(similarity: float, label_similarity: float = 0.0, off_topic: float = 0.3, **extra: object) -> SearchResult:
    return SearchResult(
        hits=HITS,
        similarity=similarity,
        vocabulary=(),
        label_similarity=label_similarity,
        off_topic=OffTopic(off_topic, "benefits and money"),
        **extra,  # type: ignore[arg-type]
    )


def test_weak_evidence_is_refused_and_strong_answered() -> None:
    assert not in_scope(result(0.1, 0.2))
    assert in_scope(result(0.3, 0.6))
    assert in_scope(result(STRONG_PASSAGE))  # a near paraphrase of a passage
    assert not in_scope(result(STRONG_PASSAGE - 0.01))


def test_the_nearest_label_is_weighed_against_the_off_topic_examples() -> None:
    label = 0.6
    # Just nearer a covered topic than the off-topic examples by the margin: answered; a little
    # nearer the examples: refused, though the label is as close as before.
    at_boundary = (label - ANSWERABLE) / OFF_TOPIC_WEIGHT
    assert in_scope(result(0.3, label, off_topic=at_boundary - 0.01))
    assert not in_scope(result(0.3, label, off_topic=at_boundary + 0.01))
    # A terse search far from every label is still answered when it is farther from the examples.
    assert in_scope(result(0.3, 0.4, off_topic=0.2))


def test_a_refusal_names_what_the_question_reads_as_only_when_nearer_that_than_any_topic() -> None:
    near_off_topic = result(0.3, 0.4, off_topic=0.7)
    assert reads_as(near_off_topic) == "benefits and money"
    assert reads_as(result(0.3, 0.4, off_topic=0.38)) == ""  # refused, but nearer a topic than the kind
    answer = refusal("child benefit rates", None, Filters(), reads_as=reads_as(near_off_topic), nearest=("family finance",))
    assert answer.refused and "It reads as a question about benefits and money" in answer.text
    assert "The nearest topics the reviews do cover: family finance." in answer.text


def test_a_concept_or_a_live_concern_needs_only_a_weak_passage() -> None:
    assert not in_scope(result(0.25, 0.3))
    assert in_scope(result(0.25, 0.3, concepts=("bruising",)))
    assert in_scope(result(0.25, 0.3), live_concern=True)


def test_a_question_naming_a_source_is_answered_from_it() -> None:
    assert in_scope(result(0.1, 0.1, named=(NamedSource("d", "2022 – Sutton – Child X", "name and area"),)))


def test_nothing_found_is_refused_even_when_named() -> None:
    empty = SearchResult(hits=[], similarity=0.9, vocabulary=(), named=(NamedSource("d", "h", "title"),))
    assert not in_scope(empty)
