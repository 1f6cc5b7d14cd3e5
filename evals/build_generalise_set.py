"""Build the generalisation benchmark: questions in practitioners' own words → reviews NSPCC labelled.

Inputs (both written independently of the index and of Casebook's vocabulary, by people who saw only
the list of NSPCC labels):

- ``datasets/generalise_questions.jsonl``: three queries (a practitioner's question, a trainer's theme,
  a short search) for every NSPCC label that at least 4 reviews carry, none using the label's own words.
- ``datasets/out_of_scope.jsonl``: questions the collection does not answer, many of them near the
  domain (medical dosing, legal and benefits advice, parenting tips, UK facts, adult care, school
  admin, and the off-topic pages the scrape contained).

Relevance is external: a review is relevant to a question about a label when NSPCC gave it that label
(spelling variants such as "self harm"/"self-harm" count as one label). No retrieval system is consulted.

The split is made once, here, by a hash of the label (all three phrasings of a label fall on the same
side) and of the question for out-of-scope cases: about half ``tuning``, half ``test``. The test split
is sealed: its SHA-256 is recorded in ``datasets/generalise.seal.json`` and a test fails if it changes.
Tune only on ``tuning``; report both.

    python -m evals.build_generalise_set
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ingest.bundled import parse_collection

HERE = Path(__file__).parent / "datasets"
QUESTIONS = HERE / "generalise_questions.jsonl"
OUT_OF_SCOPE = HERE / "out_of_scope.jsonl"
OUT = HERE / "generalise.jsonl"
SEAL = HERE / "generalise.seal.json"
SALT = "casebook-generalise-split-v1"


def label_key(label: str) -> str:
    """One key for spelling variants of a label ("self harm", "self-harm")."""
    return " ".join(re.findall(r"[a-z0-9]+", label.lower()))


def split_of(key: str) -> str:
    return "test" if hashlib.sha256(f"{SALT}:{key}".encode()).digest()[0] % 2 else "tuning"


def split_digest(rows: list[dict[str, Any]], split: str) -> str:
    h = hashlib.sha256()
    for r in rows:
        if r["split"] == split:
            h.update(json.dumps({k: r[k] for k in ("id", "question", "relevant", "refuse")}, sort_keys=True).encode())
    return h.hexdigest()


def build() -> list[dict[str, Any]]:
    reviews_by_label: dict[str, set[str]] = defaultdict(set)
    for r in parse_collection().reviews:
        for k in r.keywords:
            reviews_by_label[label_key(k)].add(r.review_id)
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines()):
        q = json.loads(line)
        key = label_key(q["label"])
        rows.append(
            {
                "id": f"g-{i:03d}",
                "label": q["label"],
                "style": q["style"],
                "question": q["question"],
                "relevant": sorted(reviews_by_label[key]),
                "refuse": False,
                "split": split_of(key),
            }
        )
    for i, line in enumerate(OUT_OF_SCOPE.read_text(encoding="utf-8").splitlines()):
        q = json.loads(line)
        rows.append(
            {
                "id": f"o-{i:03d}",
                "label": None,
                "style": q["category"],
                "question": q["question"],
                "relevant": [],
                "refuse": True,
                "split": split_of(q["question"]),
            }
        )
    return rows


def main() -> None:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    seal = {"tuning_sha256": split_digest(rows, "tuning"), "test_sha256": split_digest(rows, "test")}
    if SEAL.exists():
        old = json.loads(SEAL.read_text())
        if old["test_sha256"] != seal["test_sha256"]:
            raise SystemExit("the sealed test split would change; it was sealed before tuning and must not be rebuilt")
    SEAL.write_text(json.dumps(seal, indent=2) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[f"{r['split']} {'out of scope' if r['refuse'] else 'in scope'}"] += 1
    print(f"{len(rows)} rows written to {OUT}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
