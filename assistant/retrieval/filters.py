"""The user's filters checked against what the collection holds, with messages that say what was
expected, what was found and what to do.

Consumes ``Filters`` and the collection's labels and areas; produces the checked ``Filters`` or raises
``FilterError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from records.errors import FilterError
from records.types import AGE_BANDS, KINDS, NATIONS, OUTCOMES, Filters


def check_filters(filters: Filters, known_keywords: Sequence[str] = (), known_areas: Sequence[str] = ()) -> Filters:
    """Unknown values raise FilterError naming the valid ones. Keyword filters are matched in lower case."""

    def check(name: str, values: tuple[str, ...], valid: Sequence[str]) -> None:
        for v in values:
            if v not in valid:
                raise FilterError(f"unknown {name} {v!r}; expected one of: {', '.join(valid)}")

    check("nation", filters.nation, NATIONS)
    bands = tuple(b.replace("–", "-") for b in filters.age_band)
    check("age band", bands, AGE_BANDS)
    check("outcome", filters.outcome, OUTCOMES)
    check("kind", filters.kind, KINDS)
    keywords = tuple(k.strip().lower() for k in filters.keyword)
    if known_keywords:
        import difflib

        known = sorted(set(known_keywords))
        for k in keywords:
            if k not in known:
                close = difflib.get_close_matches(k, known, n=8, cutoff=0.5)
                hint = ", ".join(close) if close else ", ".join(known[:12]) + ", …"
                raise FilterError(f"unknown keyword {k!r}; NSPCC keywords in the index include: {hint}")
    areas = filters.area
    if known_areas and areas:
        import difflib

        by_lower = {a.lower(): a for a in known_areas}
        fixed = []
        for a in areas:
            if a.strip().lower() not in by_lower:
                close = difflib.get_close_matches(a.strip().lower(), list(by_lower), n=5, cutoff=0.6)
                hint = ", ".join(by_lower[c] for c in close) if close else ", ".join(sorted(known_areas)[:12]) + ", …"
                raise FilterError(f"unknown area {a!r}; areas in the index include: {hint}")
            fixed.append(by_lower[a.strip().lower()])
        areas = tuple(fixed)
    if filters.year_from and filters.year_to and filters.year_from > filters.year_to:
        raise FilterError(f"year range {filters.year_from}–{filters.year_to} is empty; expected from ≤ to")
    return Filters(
        year_from=filters.year_from,
        year_to=filters.year_to,
        nation=filters.nation,
        age_band=bands,
        outcome=filters.outcome,
        keyword=keywords,
        kind=filters.kind,
        area=areas,
    )
