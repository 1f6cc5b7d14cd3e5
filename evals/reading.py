"""Questions that carry their own filters, count, list or name a source: is each read and answered right?

    python -m evals.reading [--json]

Runs every case of evals/datasets/read_cases.jsonl (built from the metadata by
evals/build_read_cases.py) through ``Casebook.ask`` and reports:

- **filters read, per kind** (years, nation, area, age, outcome, kind): the share of cases whose
  applied filter of that kind is exactly the expected one (absent when none is expected);
- **exact counts**: the number the answer opens with equals the expected count;
- **cites only matching reviews**: every cited review is in the expected set (and, where the whole
  list is shown, every expected review is cited);
- **named source**: the answer's own points come from the named source only, and it is read as named;
- **candidates**: a name several reviews share, asked without an area, lists exactly those reviews.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant.answers.counting import MAX_LISTED
from assistant.casebook import Casebook
from evals.run import read_jsonl
from records.types import Answer, Filters

CASES = Path(__file__).parent / "datasets" / "read_cases.jsonl"
KINDS = ("year", "nation", "area", "age_band", "outcome", "kind")


def _applied(f: Filters, kind: str) -> Any:
    if kind == "year":
        return [f.year_from, f.year_to] if (f.year_from or f.year_to) else None
    return sorted(getattr(f, kind)) or None


def _expected(read: dict[str, Any], kind: str) -> Any:
    value = read.get(kind)
    if kind == "year":
        return value
    return sorted(value) if value else None


def check(case: dict[str, Any], answer: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {"question": case["question"], "type": case["type"], "failures": []}
    if case["type"] not in ("named", "ambiguous"):
        for kind in KINDS:
            ok = _applied(answer.filters, kind) == _expected(case["read"], kind)
            out[f"read_{kind}"] = ok
            if not ok:
                out["failures"].append(f"{kind}: read {_applied(answer.filters, kind)}, expected {_expected(case['read'], kind)}")
    cited = {c.chunk.doc_id for c in answer.citations}
    expected = set(case.get("expected_sources", []))
    if case["type"] == "count":
        m = re.match(r"(\d+) ", answer.text) or re.match(r"No source", answer.text)
        number = int(m.group(1)) if m and m.groups() else 0
        out["exact_count"] = number == case["expected_count"]
        whole = case["expected_count"] <= MAX_LISTED
        out["cites_only_matching"] = cited <= expected and (not whole or cited == expected)
        if not out["exact_count"]:
            out["failures"].append(f"count {number}, expected {case['expected_count']}")
        if not out["cites_only_matching"]:
            out["failures"].append(f"cited {sorted(cited - expected)} not matching; missed {sorted(expected - cited)}")
    if case["type"] == "ambiguous":
        out["candidates_listed"] = cited == expected and {n.doc_id for n in answer.named_sources} == expected
        if not out["candidates_listed"]:
            out["failures"].append(f"listed {sorted(cited)}, expected {sorted(expected)}")
    if case["type"] == "named":
        named = [n.doc_id for n in answer.named_sources]
        first_lines = [line for line in answer.text.split("\n")[1:] if not line.startswith("Related, not named")]
        own = {answer.citations[int(n) - 1].chunk.doc_id for line in first_lines for n in re.findall(r"\[(\d+)\]", line)}
        out["named_only"] = named == sorted(expected) and own == expected
        if not out["named_only"]:
            out["failures"].append(f"named {named}, own points from {sorted(own)}, expected {sorted(expected)}")
    return out


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    agg: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        for k, v in r.items():
            if isinstance(v, bool):
                agg[k].append(v)
    return {k: round(sum(v) / len(v), 3) for k, v in agg.items()} | {"cases": len(results)}


def run(cb: Casebook, path: Path = CASES) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    results = [check(c, cb.ask(c["question"])) for c in read_jsonl(path)]
    return summary(results), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cb = Casebook()
    cb.ensure_indexed()
    totals, results = run(cb)
    if args.json:
        print(json.dumps({"summary": totals, "cases": results}, indent=2))
        return
    for r in results:
        if r["failures"]:
            print(f"FAIL {r['question']}: " + "; ".join(r["failures"]))
    print(", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
