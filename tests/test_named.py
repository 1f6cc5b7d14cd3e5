"""assistant/question/named.py: which sources a question names, and retrieval putting a named review first."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.casebook import Casebook
from assistant.question.named import SourceNames
from assistant.surfaces.render import answer_html
from assistant.surfaces.shapes import answer_dict
from ingest.chunking import chunk_document
from records.settings import Settings
from records.types import Chunk, Filters
from tests.helpers.corpus import review_documents
from tests.helpers.fakes import FakeEmbedder


def _first(doc_id: str, heading: str, area: str, kind: str = "case_review", title: str = "") -> Chunk:
    base = chunk_document(review_documents()[0], 400)[0]
    return dataclasses.replace(
        base, doc_id=doc_id, heading=heading, title=title or heading, kind=kind, meta=dataclasses.replace(base.meta, area=area)
    )


@pytest.fixture(scope="module")
def names() -> SourceNames:
    firsts = [chunk_document(d, 400)[0] for d in review_documents()]
    firsts += [
        _first("sutton-x", "2022 – Sutton – Child X", "Sutton"),
        _first("hillingdon-x", "2020 – Hillingdon – Child X", "Hillingdon"),
        _first("leeds-emily", "2021 – Leeds – Emily", "Leeds"),
        _first("anon-pippa", "2022 – Anonymous – Pippa", "Anonymous"),
        _first(
            "guide",
            "Social Care Wales: All Wales Practice Guide, safeguarding children from neglect",
            "",
            kind="guidance",
        ),
        _first("infants", "Infants: learning from case reviews", "", kind="briefing"),
        _first("note", "Bruising in non-mobile babies", "", kind="document"),
        _first("riverside", "riverside review", "", kind="document"),
        _first("trampoline", "trampoline", "", kind="document"),
    ]
    return SourceNames(firsts)


def found(names: SourceNames, question: str) -> dict[str, str]:
    return {n.doc_id: n.by for n in names.in_question(question)}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did the Leeds review of Child Dan recommend?", {"nspcc-2021-leeds-child-dan": "name and area"}),
        ("what did the leeds review of dan recommend?", {"nspcc-2021-leeds-child-dan": "name and area"}),
        ("What did the review of Pippa say about schools?", {"anon-pippa": "name"}),
        ("What did the Sutton review of Child X learn?", {"sutton-x": "name and area"}),
        ("What did Cardiff's review of Baby Cara find?", {"nspcc-2020-cardiff-baby-cara": "name and area"}),
        ("What did the Kent review say about neglect?", {"nspcc-2023-kent-children-f": "area"}),
        ("What does the All Wales practice guide say about neglect?", {"guide": "title"}),
        ("What does my note on bruising in non-mobile babies say?", {"note": "title"}),
        ("What did the Riverside review learn about home visits?", {"riverside": "title"}),  # a user's file
        ("What did the trampoline note say?", {"trampoline": "title"}),
    ],
)
def test_a_named_source_is_found(names: SourceNames, question: str, expected: dict[str, str]) -> None:
    assert found(names, question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "what did the review of pippa say",  # a pseudonym written in lower case could be any word
        "Tell me about Child X",  # two reviews are called Child X: the area is needed
        "What did the Leeds review say?",  # Leeds has two reviews
        "what is the learning from case reviews about infants?",  # generic words do not name a briefing
        "bruising in babies who cannot crawl",
        "what did reviews say about bruising in non-mobile babies?",  # a topic, though a note has that title
        "trampoline injuries at a holiday park",  # a topic: no source noun after the one-word title
        "what did the review say about trampoline parks?",
    ],
)
def test_no_source_is_named(names: SourceNames, question: str) -> None:
    assert found(names, question) == {}


def test_a_review_named_in_the_question_comes_first(fixture_index: Settings) -> None:
    cb = Casebook(fixture_index, embedder=FakeEmbedder())
    question = "What did the Kent review of Children F say about safe sleep and fathers?"
    result = cb.retriever.search_scored(question, k=5)
    assert result.hits[0].doc_id == "nspcc-2023-kent-children-f"
    assert [n.doc_id for n in result.named] == ["nspcc-2023-kent-children-f"]
    # Other reviews still follow, and a filter the named review fails keeps it out.
    assert len(result.hits) > 1
    filtered = cb.retriever.search_scored(question, k=5, filters=Filters(year_to=2022))
    assert "nspcc-2023-kent-children-f" not in [h.doc_id for h in filtered.hits]
    assert filtered.named == ()


def test_an_answer_says_which_source_the_question_named(fixture_index: Settings) -> None:
    cb = Casebook(fixture_index, embedder=FakeEmbedder())
    answer = cb.ask("What did the Leeds review of Child Dan learn about bruising?")
    assert answer_dict(answer)["named_sources"] == [
        {"source_id": "nspcc-2021-leeds-child-dan", "heading": "2021 – Leeds – Child Dan", "by": "name and area"}
    ]
    assert answer.sources[0].doc_id == "nspcc-2021-leeds-child-dan"
    assert "Named in the question: 2021 – Leeds – Child Dan" in answer_html(answer)


def test_a_name_several_reviews_share_lists_them_as_candidates(names: SourceNames) -> None:
    assert {n.doc_id for n in names.candidates("What did the review of Child X find?")} == {"sutton-x", "hillingdon-x"}
    assert names.candidates("What did the Sutton review of Child X find?") == ()  # the area chooses
    assert names.candidates("what did the review of child x find?") == ()  # not written as a name
    assert names.written_name("sutton-x") == "Child X"
