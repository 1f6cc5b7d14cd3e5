"""The public JSON shapes (assistant/shapes.py), the filter description, stats formatting and the feedback
log: field names are a contract (see the README), so they are listed here in full."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.retrieval.stats import format_stats
from assistant.surfaces.feedback import read_feedback, record_feedback
from assistant.surfaces.shapes import answer_dict, citation_dict, describe_filters, message_text, prompts_dict, source_dict
from records.types import Citation, Exclusion, Filters, Stats
from tests.helpers.build import cited_answer, passage, source

CHUNK = passage(
    "Learning includes: nursery staff should share concerns about bruising.",
    doc="nspcc-2021-leeds-child-dan",
    start=40,
    area="Leeds",
    url="https://example.org/dan",
    report_type="executive summary",
    keywords=("Bruising", "Early years"),
    nation="England",
    age_band="1-4",
    outcome="serious harm",
)
QUOTE = "nursery staff should share concerns about bruising"
CITATION = Citation.at(1, CHUNK, QUOTE, CHUNK.text.index(QUOTE))

ANSWER_FIELDS = {
    "question",
    "answer",
    "refused",
    "safety_notice",
    "filters",
    "standalone_question",
    "notes",
    "inferred_labels",
    "citations",
    "sources",
}
CITATION_FIELDS = {
    "n",
    "source_id",
    "title",
    "year",
    "area",
    "kind",
    "quote",
    "url",
    "report_type",
    "section",
    "chunk_id",
    "source_file",
    "quote_start",
    "quote_end",
    "passage",
}
SOURCE_FIELDS = {
    "source_id",
    "title",
    "year",
    "area",
    "kind",
    "score",
    "text",
    "chunk_id",
    "section",
    "age_band",
    "outcome",
    "nation",
    "keywords",
}


def test_answer_dict_keeps_every_public_field() -> None:
    # Fields may be added to the contract, never removed or renamed: the documented ones must all be there.
    answer = cited_answer("bruising?", f"Nursery staff should share concerns [{CITATION.n}].", (CITATION,), notes=("a note",))
    data = answer_dict(answer)
    assert set(data) >= ANSWER_FIELDS
    assert (data["question"], data["refused"], data["filters"], data["notes"]) == ("bruising?", False, None, ["a note"])
    assert len(data["citations"]) == 1 and set(data["citations"][0]) >= CITATION_FIELDS
    assert len(data["sources"]) == 1 and set(data["sources"][0]) >= SOURCE_FIELDS
    assert json.loads(json.dumps(data)) == data, "plain JSON, nothing that needs a custom encoder"


def test_the_message_text_is_notice_then_answer_then_notes() -> None:
    """What a client that shows only the message text displays: the live-concern notice first, the
    note on who wrote the answer (or why the model's answer was replaced) last."""
    answer = cited_answer("bruising?", f"Nursery staff should share concerns [{CITATION.n}].", (CITATION,), notes=("a note",))
    assert message_text(answer) == f"Nursery staff should share concerns [{CITATION.n}].\n\n_a note_"
    notice = replace(answer, safety_notice="Call 999.", notes=())
    assert message_text(notice) == f"Call 999.\n\nNursery staff should share concerns [{CITATION.n}]."


def test_citation_dict_values() -> None:
    c = citation_dict(CITATION)
    assert c["source_id"] == "nspcc-2021-leeds-child-dan" and c["title"] == "2021 – Leeds – Child Dan"
    assert (c["year"], c["area"], c["kind"], c["url"], c["report_type"]) == (
        2021,
        "Leeds",
        "case_review",
        "https://example.org/dan",
        "executive summary",
    )
    assert c["passage"][c["quote_start"] - CHUNK.start : c["quote_end"] - CHUNK.start] == c["quote"] == QUOTE


def test_a_documents_title_is_its_title_not_its_heading_path() -> None:
    note = passage("Team notes on safe sleep.", kind="document", heading="Team notes")
    assert citation_dict(Citation.at(1, note, "Team notes on safe sleep", 0))["title"] == note.title


def test_source_dict_values() -> None:
    s = source_dict(source(CHUNK, score=0.0123456789))
    assert s["score"] == 0.012346 and s["keywords"] == ["Bruising", "Early years"]
    assert (s["age_band"], s["outcome"], s["nation"], s["text"]) == ("1-4", "serious harm", "England", CHUNK.text)


def test_prompts_dict_carries_each_prompts_citations() -> None:
    data = prompts_dict("bruising", None, [(f"Leeds found: “{QUOTE}” [1] Why?", [1]), ("What next?", [])], [CITATION])
    assert data["theme"] == "bruising" and data["notice"] is None
    assert [len(p["citations"]) for p in data["prompts"]] == [1, 0]
    assert data["prompts"][0]["citations"][0]["quote"] == QUOTE


@pytest.mark.parametrize(
    ("filters", "said"),
    [
        (Filters(), None),
        (Filters(age_band=("under 1", "1-4")), "Filtered to children aged under 1 or 1-4."),
        (Filters(year_from=2019, year_to=2023), "Filtered to published 2019–2023."),
        (Filters(year_from=2020), "Filtered to published 2020 or later."),
        (Filters(year_to=2021), "Filtered to published up to 2021."),
        (Filters(nation=("Wales",)), "Filtered to in Wales."),
        (Filters(outcome=("death",)), "Filtered to outcome death."),
        (Filters(keyword=("neglect", "fathers")), "Filtered to keyword neglect or fathers."),
        (Filters(kind=("case_review",)), "Filtered to kind case_review."),
        (
            Filters(year_from=2020, year_to=2022, age_band=("under 1",), nation=("England",)),
            "Filtered to children aged under 1, published 2020–2022, in England.",
        ),
    ],
)
def test_describe_filters(filters: Filters, said: str | None) -> None:
    assert describe_filters(filters) == said


def test_format_stats() -> None:
    stats = Stats(
        documents=6,
        reviews=4,
        chunks=17,
        by_kind={"case_review": 4, "document": 2},
        by_year={"2020": 1, "2021": 3},
        by_nation={"England": 3, "Wales": 1},
        by_age_band={"under 1": 4},
        by_outcome={"death": 1, "other": 3},
        top_keywords=(("neglect", 3), ("fathers", 1)),
        excluded=(),
    )
    lines = format_stats(stats).split("\n")
    assert lines == [
        "6 documents (4 case reviews), 17 chunks",
        "",
        "by kind: case_review 4, document 2",
        "reviews by year published: 2020 1, 2021 3",
        "reviews by nation: England 3, Wales 1",
        "reviews by age band: under 1 4",
        "reviews by outcome: death 1, other 3",
        "top keywords: neglect (3), fathers (1)",
    ]
    excluded = Stats(**{**stats.__dict__, "excluded": (Exclusion("a.html", "A", "not UK"),)})
    assert format_stats(excluded).endswith("excluded pages: 1 (see `casebook stats --json`)")


def test_stats_as_dict() -> None:
    stats = Stats(
        1, 1, 2, {"case_review": 1}, {"2020": 1}, {"Wales": 1}, {"under 1": 1}, {"death": 1}, (("fathers", 1),), (Exclusion("a", "b", "c"),)
    )
    data = stats.as_dict()
    assert data["top_keywords"] == [{"keyword": "fathers", "reviews": 1}]
    assert data["excluded"] == [{"source_file": "a", "title": "b", "reason": "c"}]


def test_feedback_is_appended_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "feedback.jsonl"
    answer = cited_answer("bruising?", "Nursery staff should share concerns [1].", (CITATION,), standalone_question="bruising in babies?")
    record_feedback(path, answer, helpful=False, comment="  quote 1 is about a different child  ")
    record_feedback(path, answer, helpful=True, comment="x" * 3000)
    first, second = read_feedback(path)
    assert (first["rating"], first["comment"], second["rating"]) == ("down", "quote 1 is about a different child", "up")
    assert len(second["comment"]) == 2000
    assert first["standalone_question"] == "bruising in babies?"
    assert first["citations"] == [
        {"n": 1, "source_id": CHUNK.doc_id, "title": "2021 – Leeds – Child Dan", "quote": QUOTE, "chunk_id": CHUNK.chunk_id}
    ]
    assert read_feedback(tmp_path / "none.jsonl") == []


def test_search_json_says_why_ask_would_answer_or_refuse() -> None:
    from assistant.answers.refusal import ANSWERABLE, OFF_TOPIC_WEIGHT
    from assistant.question.scope import OffTopic
    from assistant.retrieval.ranking import SearchResult
    from assistant.surfaces.shapes import search_dict

    hits = [source(CHUNK)]
    near = SearchResult(hits=hits, similarity=0.3, vocabulary=(), label_similarity=0.3, off_topic=OffTopic(0.6, "benefits and money"))
    data = json.loads(json.dumps(search_dict("child benefit rates", near)))
    assert set(data) == {"query", "inferred_labels", "named_sources", "scope", "results"}
    assert data["scope"] == {
        "answerable": False,
        "label_similarity": 0.3,
        "off_topic_similarity": 0.6,
        "margin": round(0.3 - OFF_TOPIC_WEIGHT * 0.6, 4),
        "reads_as": "benefits and money",
    }
    far = SearchResult(hits=hits, similarity=0.3, vocabulary=(), label_similarity=0.6, off_topic=OffTopic(0.2, "benefits and money"))
    scope = search_dict("bruising in babies", far)["scope"]
    assert scope["answerable"] is (0.6 - OFF_TOPIC_WEIGHT * 0.2 >= ANSWERABLE) is True and scope["reads_as"] is None
