"""assistant/retrieval/filters.py ``check_filters``: unknown values are a FilterError that lists the valid ones."""

from __future__ import annotations

import pytest

from assistant.retrieval.filters import check_filters
from records.errors import FilterError, InputError
from records.types import AGE_BANDS, KINDS, NATIONS, OUTCOMES, Filters

KNOWN = ["bruising", "child criminal exploitation", "fathers", "neglect", "safe sleep"]


@pytest.mark.parametrize(
    ("filters", "field", "valid"),
    [
        (Filters(nation=("Narnia",)), "nation 'Narnia'", NATIONS),
        (Filters(age_band=("toddler",)), "age band 'toddler'", AGE_BANDS),
        (Filters(outcome=("happy",)), "outcome 'happy'", OUTCOMES),
        (Filters(kind=("novel",)), "kind 'novel'", KINDS),
    ],
)
def test_unknown_value_lists_every_valid_one(filters: Filters, field: str, valid: tuple[str, ...]) -> None:
    with pytest.raises(FilterError) as info:
        check_filters(filters)
    assert str(info.value) == f"unknown {field}; expected one of: {', '.join(valid)}"


def test_a_filter_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        check_filters(Filters(nation=("Atlantis",)))


def test_valid_filters_pass_and_age_bands_take_an_en_dash() -> None:
    f = check_filters(
        Filters(year_from=2019, year_to=2023, nation=("Wales",), age_band=("1–4",), outcome=("death",), kind=("case_review",))
    )
    assert f == Filters(year_from=2019, year_to=2023, nation=("Wales",), age_band=("1-4",), outcome=("death",), kind=("case_review",))


def test_keywords_are_matched_in_lower_case() -> None:
    assert check_filters(Filters(keyword=("  Safe Sleep ", "NEGLECT")), KNOWN).keyword == ("safe sleep", "neglect")


def test_unknown_keyword_suggests_close_labels() -> None:
    with pytest.raises(FilterError, match=r"unknown keyword 'negelct'; NSPCC keywords in the index include: neglect"):
        check_filters(Filters(keyword=("negelct",)), KNOWN)


def test_unknown_keyword_with_nothing_close_lists_some_labels() -> None:
    with pytest.raises(FilterError) as info:
        check_filters(Filters(keyword=("zzzz",)), KNOWN)
    assert str(info.value) == "unknown keyword 'zzzz'; NSPCC keywords in the index include: " + ", ".join(KNOWN) + ", …"


def test_without_known_keywords_any_keyword_passes() -> None:
    assert check_filters(Filters(keyword=("Anything",))).keyword == ("anything",)


def test_an_empty_year_range_is_refused() -> None:
    with pytest.raises(FilterError, match="year range 2023–2019 is empty; expected from ≤ to"):
        check_filters(Filters(year_from=2023, year_to=2019))
    assert check_filters(Filters(year_from=2021, year_to=2021)).year_from == 2021
