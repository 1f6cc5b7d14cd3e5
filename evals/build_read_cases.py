"""Build evals/datasets/read_cases.jsonl: questions that carry their own filters, count, list, or name
a source, with the expected answer computed from the index's metadata.

    python -m evals.build_read_cases

Each case holds the question, the filters it should be read as (per kind: years, nation, area, age,
outcome, kind), and for counting questions the exact set of matching reviews, computed here by plain
comparisons over every review's stored details (not by Casebook's filter code), and for named-source
questions the one source. Needs the bundled index ($CASEBOOK_HOME). Rebuilding after the collection
changes updates the expected sets; the questions are fixed below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from records.settings import load_settings
from vectorstore.store import open_store

OUT = Path(__file__).parent / "datasets" / "read_cases.jsonl"
TEENS = ["11-15", "16-17"]

# (question, the filters it should be read as). Expected sets are computed from these filters.
COUNTS: list[tuple[str, dict[str, Any]]] = [
    ("How many reviews published in 2023 involved a teenager who died?", {"year": [2023, 2023], "age_band": TEENS, "outcome": ["death"]}),
    ("How many reviews were published in 2021?", {"year": [2021, 2021]}),
    ("How many reviews since 2024 involved a baby?", {"year": [2024, None], "age_band": ["under 1"]}),
    ("Which reviews from Wales involved a child who died?", {"nation": ["Wales"], "outcome": ["death"]}),
    ("List the reviews published before 2020", {"year": [None, 2019]}),
    ("How many reviews between 2020 and 2022 involved toddlers?", {"year": [2020, 2022], "age_band": ["1-4"]}),
    ("How many reviews involved a child who was seriously injured in 2022?", {"year": [2022, 2022], "outcome": ["serious harm"]}),
    ("Which reviews were published in Birmingham?", {"area": ["Birmingham"]}),
    ("How many reviews from Kent are there?", {"area": ["Kent"]}),
    ("How many reviews in the last 2 years involved teenagers?", {"year": ["newest-1", "newest"], "age_band": TEENS}),
    ("How many reviews from last year involved an unborn baby?", {"year": ["newest", "newest"], "age_band": ["unborn", "under 1"]}),
    ("Which reviews in Scotland were published since 2020?", {"nation": ["Scotland"], "year": [2020, None]}),
    ("How many reviews from Sandwell involved babies?", {"area": ["Sandwell"], "age_band": ["under 1"]}),
    ("How many reviews published in 2025 involved children under five?", {"year": [2025, 2025], "age_band": ["under 1", "1-4"]}),
]
NAMED: list[tuple[str, str]] = [
    ("What did the Norfolk review of Child AK recommend?", "nspcc-2023-norfolk-child-ak"),
    ("What did the City and Hackney review of Child Q find?", "nspcc-2022-city-and-hackney-child-q"),
    ("What did the Sutton review of Child X learn about discharge planning?", "nspcc-2022-sutton-child-x"),
    ("What did the Haringey review of Nic say about self-harm?", "nspcc-2025-haringey-nic"),
    ("What does the All Wales practice guide say about recognising neglect?", "ALL-WALES-GUIDE"),
]
# Names several reviews share, asked without an area: every review of that name is listed.
AMBIGUOUS: list[tuple[str, str]] = [
    ("What did the review of Child X say about discharge planning?", "Child X"),
    ("What did the review of Child D find?", "Child D"),
]
# Theme questions that carry a filter: the reading is checked, the answer is the usual one.
THEMES: list[tuple[str, dict[str, Any]]] = [
    ("What did Welsh reviews say about neglect?", {"nation": ["Wales"]}),
    ("What did reviews published since 2022 say about fathers?", {"year": [2022, None]}),
    ("What did reviews say about teenagers who died by suicide?", {"age_band": [*TEENS, "multiple/unknown"], "outcome": ["death"]}),
    ("What have briefings said about unsafe sleep?", {"kind": ["briefing"], "age_band": []}),
]


def _firsts() -> dict[str, dict[str, Any]]:
    store = open_store(load_settings())
    out: dict[str, dict[str, Any]] = {}
    for c in store.all_chunks():
        out.setdefault(
            c.doc_id,
            {
                "kind": c.kind,
                "title": c.title,
                "year": c.meta.year,
                "nation": c.meta.nation,
                "area": c.meta.area,
                "age_band": c.meta.age_band,
                "outcome": c.meta.outcome,
            },
        )
    return out


def _resolve_years(spec: dict[str, Any], newest: int) -> dict[str, Any]:
    if "year" not in spec:
        return spec
    lo, hi = (newest - 1 if v == "newest-1" else newest if v == "newest" else v for v in spec["year"])
    return {**spec, "year": [lo, hi]}


def _matches(meta: dict[str, Any], spec: dict[str, Any]) -> bool:
    if meta["kind"] != "case_review":
        return False
    if "year" in spec:
        lo, hi = spec["year"]
        if meta["year"] is None or (lo is not None and meta["year"] < lo) or (hi is not None and meta["year"] > hi):
            return False
    return all(meta[k] in v for k, v in spec.items() if k != "year" and v)


def main() -> None:
    docs = _firsts()
    newest = max(m["year"] for m in docs.values() if m["year"])
    guide = next(d for d, m in docs.items() if "All Wales Practice Guide" in m["title"])
    rows = []
    for question, spec in COUNTS:
        spec = _resolve_years(spec, newest)
        expected = sorted(d for d, m in docs.items() if _matches(m, spec))
        rows.append({"type": "count", "question": question, "read": spec, "expected_count": len(expected), "expected_sources": expected})
    for question, doc in NAMED:
        rows.append({"type": "named", "question": question, "read": {}, "expected_sources": [guide if doc == "ALL-WALES-GUIDE" else doc]})
    for question, name in AMBIGUOUS:
        expected = sorted(d for d, m in docs.items() if m["kind"] == "case_review" and m["title"].strip() == name)
        rows.append({"type": "ambiguous", "question": question, "read": {}, "expected_sources": expected})
    for question, spec in THEMES:
        rows.append({"type": "theme", "question": question, "read": _resolve_years(spec, newest)})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} cases written to {OUT}")


if __name__ == "__main__":
    main()
