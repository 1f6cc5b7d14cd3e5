"""Counting and listing questions on the fixture index: exact numbers from the metadata, every listed
review cited, the filters read from the question shown and applied."""

from __future__ import annotations

import re

import pytest

from assistant.casebook import Casebook
from assistant.surfaces.shapes import answer_dict
from records.settings import Settings
from records.types import Filters
from tests.helpers.corpus import REVIEWS
from tests.helpers.fakes import FakeEmbedder


@pytest.fixture
def cb(fixture_index: Settings) -> Casebook:
    return Casebook(fixture_index, embedder=FakeEmbedder())


def expected(**conditions: object) -> set[str]:
    """The fixture reviews whose recorded details match, derived from the fixture's own table."""
    return {d for d, meta in REVIEWS.items() if all(meta[k] in v for k, v in conditions.items())}  # type: ignore[operator]


@pytest.mark.parametrize(
    ("question", "ids", "read_as"),
    [
        ("How many reviews were published in 2022?", expected(year=(2022,)), ["published 2022"]),
        ("Which reviews involved a child who died?", expected(outcome=("death",)), ["outcome death"]),
        (
            "How many reviews in Wales since 2021?",
            expected(nation=("Wales",), year=(2021, 2022, 2023)),
            ["published 2021 or later", "in Wales"],
        ),
        ("List the reviews about toddlers", expected(age_band=("1-4",)), ["age 1–4"]),
    ],
)
def test_a_count_is_exact_and_cites_every_review_it_lists(cb: Casebook, question: str, ids: set[str], read_as: list[str]) -> None:
    answer = cb.ask(question)
    first = answer.text.split("\n")[0]
    assert first.startswith(f"{len(ids)} review{'s' if len(ids) != 1 else ''} in the collection")
    assert {c.chunk.doc_id for c in answer.citations} == ids
    assert [int(n) for n in re.findall(r"\[(\d+)\]", first)] == [c.n for c in answer.citations]
    for c in answer.citations:
        assert c.quote in c.chunk.text and c.chunk.section == "summary"
    assert answer_dict(answer)["read_as"] == read_as


def test_a_count_with_a_topic_counts_by_the_labels_and_says_so(cb: Casebook) -> None:
    answer = cb.ask("How many reviews about neglect were published since 2020?")
    assert {c.chunk.doc_id for c in answer.citations} == {"nspcc-2023-kent-children-f"}
    assert "counted as reviews carrying the NSPCC labels the question names: neglect" in answer.text


def test_nothing_matching_is_said_with_the_reading(cb: Casebook) -> None:
    answer = cb.ask("How many reviews were published in 2015?")
    assert answer.refused and not answer.citations
    assert "No source in the collection matches (published 2015" in answer.text
    assert any("Nothing in the collection is published 2015" in n for n in answer.notes)


def test_the_users_filter_wins_over_the_question(cb: Casebook) -> None:
    answer = cb.ask("How many reviews were published in 2022?", Filters(year_from=2020, year_to=2020))
    assert {c.chunk.doc_id for c in answer.citations} == expected(year=(2020,))


def test_a_theme_question_applies_what_it_reads(cb: Casebook) -> None:
    answer = cb.ask("what did reviews published in 2021 say about bruising?")
    assert answer.read_as == ("published 2021",)
    assert answer.filters.year_from == answer.filters.year_to == 2021
    assert all(h.best.meta.year == 2021 for h in answer.sources)


def test_a_live_concern_in_a_counting_question_still_leads_with_the_notice(cb: Casebook) -> None:
    answer = cb.ask("How many reviews were published in 2022? I'm worried about a baby I visited today who has a bruise")
    assert answer.safety_notice and "0808 800 5000" in answer.safety_notice
