"""The generalisation view of retrieval: questions in practitioners' own words, relevance from NSPCC's
labels, on the tuning split and the sealed test split of evals/datasets/generalise.jsonl.

Consumes a ``Casebook`` and the rankers of evals/baselines.py; produces, per split, nDCG@10 of
Casebook, plain BM25 and plain dense measured in the same run, Casebook's ratio to the better
baseline, the share of questions on which Casebook is at least as good as plain dense, and refusal
(out-of-scope refused, in-scope answered). Used by ``casebook eval --generalisation`` and
``python -m benchmarks.retrieval``.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from assistant.answers.refusal import in_scope
from assistant.casebook import Casebook
from assistant.question.safety import safety_notice
from evals.baselines import Ranker
from evals.metrics import ndcg_at_k
from evals.run import read_jsonl

GENERALISE = Path(__file__).parent / "datasets" / "generalise.jsonl"


def in_scope_rows(split: str, path: Path = GENERALISE) -> list[dict[str, Any]]:
    """One split's questions that the collection answers (not the out-of-scope ones)."""
    return [r for r in read_jsonl(path) if r["split"] == split and not r["refuse"]]


def generalisation(cb: Casebook, systems: dict[str, Ranker], path: Path = GENERALISE) -> dict[str, Any]:
    rows = read_jsonl(path)
    out: dict[str, Any] = {}
    for split in ("tuning", "test"):
        part = [r for r in rows if r["split"] == split]
        scoped = [r for r in part if not r["refuse"]]
        nd = {name: [ndcg_at_k(rank(r["question"]), set(r["relevant"]), 10) for r in scoped] for name, rank in systems.items()}
        means = {name: round(statistics.mean(v), 4) for name, v in nd.items()}
        best_baseline = max(means["bm25"], means["dense"])
        at_least_dense = sum(c >= d - 1e-9 for c, d in zip(nd["casebook"], nd["dense"], strict=True)) / len(scoped)
        answered = [in_scope(cb.search_scored(r["question"]), live_concern=safety_notice(r["question"]) is not None) for r in part]
        oos = [a for a, r in zip(answered, part, strict=True) if r["refuse"]]
        ins = [a for a, r in zip(answered, part, strict=True) if not r["refuse"]]
        out[split] = {
            "questions": len(scoped),
            "ndcg@10": means,
            "casebook_vs_best_baseline": round(means["casebook"] / best_baseline, 3) if best_baseline else None,
            "casebook_at_least_dense": round(at_least_dense, 3),
            "out_of_scope_refused": round(sum(not a for a in oos) / len(oos), 3),
            "in_scope_answered": round(sum(ins) / len(ins), 3),
            "out_of_scope_questions": len(oos),
        }
    return out


def summary_line(split: str, g: dict[str, Any]) -> str:
    n = g["ndcg@10"]
    return (
        f"generalisation, {split} split ({g['questions']} questions): nDCG@10 Casebook {n['casebook']:.3f}, "
        f"BM25 {n['bm25']:.3f}, dense {n['dense']:.3f} (×{g['casebook_vs_best_baseline']} the better baseline); "
        f"Casebook ≥ dense on {g['casebook_at_least_dense']:.0%}; out-of-scope refused {g['out_of_scope_refused']:.0%} "
        f"of {g['out_of_scope_questions']}, in-scope answered {g['in_scope_answered']:.0%}"
    )
