"""assistant/question/reading.py: the filters a question carries, read without a model."""

from __future__ import annotations

import pytest

from assistant.question.door import merged
from assistant.question.reading import Reading, read_question
from records.types import Filters

YEARS = list(range(2019, 2026))
AREAS = ["Norfolk", "Kent", "City and Hackney", "Bury", "Reading", "Anonymous"]


def read(question: str) -> Reading:
    return read_question(question, years=YEARS, areas=AREAS)


@pytest.mark.parametrize(
    ("question", "years"),
    [
        ("reviews published in 2023 about neglect", (2023, 2023)),
        ("what have reviews said since 2021?", (2021, None)),
        ("reviews after 2021", (2022, None)),
        ("anything before 2022", (None, 2021)),
        ("between 2019 and 2021", (2019, 2021)),
        ("from 2020 to 2022", (2020, 2022)),
        ("in 2020–2022", (2020, 2022)),
        ("reviews from last year", (2025, 2025)),  # relative to the newest review, not today
        ("in the last 3 years", (2023, 2025)),
        ("in the past two years", (2024, 2025)),
        ("bruising in babies", (None, None)),
    ],
)
def test_years(question: str, years: tuple[int | None, int | None]) -> None:
    f = read(question).filters
    assert (f.year_from, f.year_to) == years


def test_the_headline_counting_question() -> None:
    r = read("How many reviews published in 2023 involved a teenager who died?")
    assert r.filters == Filters(year_from=2023, year_to=2023, age_band=("11-15", "16-17"), outcome=("death",))
    assert r.counting and r.topic == ""
    assert r.describe() == "Read as: published 2023 · age 11–15 or 16–17 · outcome death"


@pytest.mark.parametrize(
    ("question", "field", "value"),
    [
        ("what did Welsh reviews find about neglect?", "nation", ("Wales",)),
        ("reviews in Northern Ireland", "nation", ("Northern Ireland",)),
        ("neglect in City and Hackney", "area", ("City and Hackney",)),
        ("toddlers who were seriously injured", "age_band", ("1-4",)),
        ("toddlers who were seriously injured", "outcome", ("serious harm",)),
        ("children under five", "age_band", ("under 1", "1-4")),
        ("unborn babies and pre-birth assessment", "age_band", ("unborn", "under 1")),
        ("pre-birth assessments in pregnancy", "age_band", ()),
        ("what does the guidance say about neglect?", "kind", ("guidance",)),
        ("what do the briefings say?", "kind", ("briefing",)),
    ],
)
def test_places_ages_outcomes_and_kinds(question: str, field: str, value: tuple[str, ...]) -> None:
    assert getattr(read(question).filters, field) == value


def test_place_names_that_are_also_words_need_a_capital() -> None:
    assert read("what should we bury ourselves in when reading reviews?").filters.area == ()
    assert read("What did the Bury review find?").filters.area == ("Bury",)
    assert read("anonymous reviews").filters.area == ()


def test_counting_and_listing_questions_and_their_topic() -> None:
    r = read("Which reviews since 2021 were about neglect in Norfolk?")
    assert r.counting and r.topic == "neglect" and r.filters.area == ("Norfolk",)
    assert read("List the reviews from 2024").counting
    assert read("how many reviews involved babies?").counting
    assert not read("Which infants may be more vulnerable to abuse and neglect?").counting
    assert not read("what did reviews say about neglect?").counting


def test_a_year_with_no_reviews_is_reported_not_dropped() -> None:
    r = read("reviews published in 2015")
    assert (r.filters.year_from, r.filters.year_to) == (2015, 2015)
    assert r.unmatched == ("published 2015",)


def test_the_users_own_filters_win_field_by_field() -> None:
    explicit = Filters(nation=("England",), year_from=2019)
    read_ = Filters(nation=("Wales",), year_from=2023, year_to=2023, outcome=("death",))
    assert merged(explicit, read_) == Filters(nation=("England",), year_from=2019, outcome=("death",))
