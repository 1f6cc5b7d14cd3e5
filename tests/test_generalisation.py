"""evals/generalisation.py on the fixture index: both splits measured, ratios and rates computed from
the per-question figures, the refusal rows counted apart."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.casebook import Casebook
from evals.generalisation import generalisation, summary_line
from records.settings import Settings
from tests.helpers.fakes import FakeEmbedder

ROWS = [
    {
        "split": "tuning",
        "question": "sleeping on a sofa with a father who had drunk",
        "relevant": ["nspcc-2020-cardiff-baby-cara"],
        "refuse": False,
    },
    {"split": "tuning", "question": "bruises nursery staff noticed", "relevant": ["nspcc-2021-leeds-child-dan"], "refuse": False},
    {"split": "tuning", "question": "how do I bake a sourdough loaf?", "relevant": [], "refuse": True},
    {
        "split": "test",
        "question": "a teenager stabbed after exploitation",
        "relevant": ["nspcc-2022-swansea-young-person-ellis"],
        "refuse": False,
    },
    {"split": "test", "question": "what is the capital of Peru?", "relevant": [], "refuse": True},
]


def test_both_splits_are_measured_against_both_baselines(fixture_index: Settings, tmp_path: Path) -> None:
    path = tmp_path / "generalise.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    cb = Casebook(fixture_index, embedder=FakeEmbedder())
    ranks = {
        "casebook": lambda q: ["nspcc-2020-cardiff-baby-cara"],
        "bm25": lambda q: [],
        "dense": lambda q: ["nspcc-2021-leeds-child-dan"],
    }
    out = generalisation(cb, ranks, path)
    tuning, test = out["tuning"], out["test"]
    assert (tuning["questions"], tuning["out_of_scope_questions"], test["questions"]) == (2, 1, 1)
    # casebook is right on the first tuning question only; dense on the second only.
    assert tuning["ndcg@10"] == {"casebook": 0.5, "bm25": 0.0, "dense": 0.5}
    assert tuning["casebook_vs_best_baseline"] == 1.0
    assert tuning["casebook_at_least_dense"] == 0.5
    assert test["ndcg@10"]["casebook"] == 0.0 and test["casebook_vs_best_baseline"] is None
    assert 0.0 <= tuning["out_of_scope_refused"] <= 1.0 and 0.0 <= tuning["in_scope_answered"] <= 1.0
    assert "tuning split (2 questions)" in summary_line("tuning", tuning)
