"""The listing parser against the bundled collection: every entry, exact fields, every variant."""

from __future__ import annotations

import itertools

import pytest

from ingest.bundled import parse_collection
from ingest.nspcc import age_band, nation_of, parse_age, parse_outcome, split_keywords
from records.types import Review


@pytest.fixture(scope="module")
def reviews() -> dict[str, Review]:
    parsed = parse_collection()
    return {r.review_id: r for r in parsed.reviews}


def test_all_361_entries_parsed_once_with_unique_ids(reviews: dict[str, Review]) -> None:
    assert len(reviews) == 361
    parsed = parse_collection()
    assert len(parsed.reviews) == 361
    spans = sorted((r.source_file, r.start, r.end) for r in parsed.reviews)
    for a, b in itertools.pairwise(spans):
        assert a[0] != b[0] or a[2] <= b[1], "two entries overlap"


def test_ids_are_stable_across_parses(reviews: dict[str, Review]) -> None:
    assert sorted(reviews) == sorted(r.review_id for r in parse_collection().reviews)


def test_the_two_2023_anonymous_child_a_entries_are_distinct(reviews: dict[str, Review]) -> None:
    child_as = [r for r in reviews.values() if r.year == 2023 and r.area == "Anonymous" and r.title == "Child A"]
    assert len(child_as) == 2
    by_age = {r.age_band: r for r in child_as}
    older, younger = by_age["16-17"], by_age["1-4"]
    assert older.review_id != younger.review_id
    assert older.age_months == 192 and older.outcome == "death"
    assert older.keywords == ("child deaths", "suicide", "child sexual abuse", "sibling abuse", "adolescent girls")
    assert older.report_type == "overview report"
    assert older.summary.startswith("Death of a 16-year-old girl. Child A may have died by suicide.")
    assert older.learning.startswith("Learning focuses on: interagency working")
    assert older.recommendations.startswith("Recommendations include: a multi-agency reflective learning event")
    assert younger.age_months == 24 and younger.outcome == "serious harm"
    assert younger.keywords[0] == "adults with learning difficulties"
    assert "bruises in non-mobile babies" in younger.learning
    assert younger.nation == older.nation == "unknown"


@pytest.mark.parametrize(
    ("review_id", "heading", "area", "title", "nation"),
    [
        ("nspcc-2025-birmingham-baby-a", "2025 – Birmingham - Baby A", "Birmingham", "Baby A", "England"),
        ("nspcc-2023-guernsey-and-alderney-john", "2023– Guernsey and Alderney – John", "Guernsey and Alderney", "John", "Channel Islands"),
        ("nspcc-2020-nottinghamshire-child-rn19", "2020 — Nottinghamshire — Child RN19", "Nottinghamshire", "Child RN19", "England"),
        ("nspcc-2023-wirral-noah", "2023 – Wirral - Noah", "Wirral", "Noah", "England"),
        (
            "nspcc-2025-west-glamorgan-wg-s71-2023-child-a",
            "2025 - West Glamorgan - WG S71 2023 (Child A)",
            "West Glamorgan",
            "WG S71 2023 (Child A)",
            "Wales",
        ),
        ("nspcc-2023-islands-john", "2023 – Islands - John", "Islands", "John", "Channel Islands"),
    ],
)
def test_header_variants(reviews: dict[str, Review], review_id: str, heading: str, area: str, title: str, nation: str) -> None:
    r = reviews[review_id]
    assert (r.heading, r.area, r.title, r.nation) == (heading, area, title, nation)


@pytest.mark.parametrize(
    ("review_id", "months", "band"),
    [
        ("nspcc-2025-birmingham-baby-a", 0.26, "under 1"),  # 8-day-old
        ("nspcc-2022-anonymous-babies-with-injuries", 3.22, "under 1"),  # 14-week-old
        ("nspcc-2022-sutton-child-x", 3.5, "under 1"),  # 3-and-a-half-month-old
        ("nspcc-2019-lewisham-and-harrow-child-lh", 51.0, "1-4"),  # 4-year-3-month-old
        ("nspcc-2022-kent-children-o-and-p", 23.0, "1-4"),  # 23-month-old
        ("nspcc-2025-hertfordshire-ivy", 24.0, "1-4"),  # 2-year-old
        ("nspcc-2023-wirral-noah", 24.0, "1-4"),  # two-year-old
        ("nspcc-2022-berkshire-west-serious-youth-violence", None, "multiple/unknown"),  # teenage
        ("nspcc-2021-birmingham-child-a", None, "multiple/unknown"),  # adolescent
        ("nspcc-2025-haringey-nic", 192.0, "16-17"),
        ("nspcc-2025-bristol-serious-youth-violence", None, "multiple/unknown"),  # 10 boys aged 15-16
    ],
)
def test_age_formats(reviews: dict[str, Review], review_id: str, months: float | None, band: str) -> None:
    r = reviews[review_id]
    assert (r.age_months, r.age_band) == (months, band)


def test_2025_entry_fields_exactly(reviews: dict[str, Review]) -> None:
    r = reviews["nspcc-2025-warrington-daniel"]
    assert r.year == 2025 and r.area == "Warrington" and r.title == "Daniel"
    assert r.age_months == 3.0 and r.age_band == "under 1" and r.outcome == "death"
    assert r.report_type == "executive summary"
    assert r.keywords == ("alcohol misuse", "domestic abuse", "infant deaths", "injuries", "sleeping behaviour", "unknown men")
    assert r.learning.startswith("Learning themes include: professional curiosity around potential injuries")
    assert r.recommendations.endswith("review safer sleeping risk assessments and safety planning.")
    assert r.source_file == "003_73cb952e812ca99b.txt"


def test_keywords_split_on_semicolons(reviews: dict[str, Review]) -> None:
    r = reviews["nspcc-2023-anonymous-thematic-review-of-infants-under-1-year"]
    assert r.keywords == ("infants", "head injuries", "injuries")
    assert split_keywords("a, b; c ,") == ("a", "b", "c")


def test_fields_are_exact_slices_of_the_source(reviews: dict[str, Review]) -> None:
    from ingest.sources import read_collection_file

    texts = {name: read_collection_file(name).text for name in {r.source_file for r in reviews.values()}}
    for r in reviews.values():
        text = texts[r.source_file]
        assert text[r.start : r.end].startswith(r.heading)
        for s in r.sections:
            assert text[s.start : s.end] == getattr(r, s.name)


def test_every_review_has_a_summary_and_most_have_learning(reviews: dict[str, Review]) -> None:
    assert all(r.summary for r in reviews.values())
    assert sum(1 for r in reviews.values() if r.learning) >= 340
    assert sum(1 for r in reviews.values() if r.keywords) >= 355


@pytest.mark.parametrize(
    ("text", "months", "band"),
    [
        ("Death of an unborn baby at 30 weeks gestation.", None, "unborn"),
        ("Neglect of four siblings over a period of years.", None, "multiple/unknown"),
        ("Injuries to a baby boy.", None, "under 1"),
        ("Death of a 5-and-a-half-year-old girl.", 66.0, "5-10"),
        ("Death of a 17-year-old boy.", 204.0, "16-17"),
    ],
)
def test_parse_age_cases(text: str, months: float | None, band: str) -> None:
    assert parse_age(text) == (months, band)


def test_outcome_and_bands() -> None:
    assert parse_outcome("Death of a 3-month-old boy in 2023.") == "death"
    assert parse_outcome("Serious injuries to a 2-year-old boy. He recovered.") == "serious harm"
    assert parse_outcome("Placement of a 12-year-old girl in secure accommodation.") == "other"
    assert [age_band(m) for m in (-1, 0, 11.9, 12, 59, 60, 131, 132, 191, 192, 215, 216)] == [
        "unborn",
        "under 1",
        "under 1",
        "1-4",
        "1-4",
        "5-10",
        "5-10",
        "11-15",
        "11-15",
        "16-17",
        "16-17",
        "multiple/unknown",
    ]
    assert nation_of("North Lanarkshire") == "Scotland" and nation_of("Cwm Taf") == "Wales"
    assert nation_of("Anonymous") == "unknown" and nation_of("Derby and Derbyshire") == "England"
