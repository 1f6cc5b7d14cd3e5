"""Retrieval quality, refusal and search/ask latency on the bundled collection.

    python -m benchmarks.retrieval [--json]

Two views of quality, each with plain BM25 and plain dense measured in the same run:

1. **Generalisation** (evals/datasets/generalise.jsonl, the headline): questions in practitioners' own
   words, relevance from NSPCC's labels, reported separately on the tuning split and on the sealed
   test split; with the share of test questions on which Casebook is at least as good as plain dense,
   and refusal on that set (out-of-scope refused, in-scope answered), per split.
2. **Written criteria** (evals/datasets/retrieval.jsonl, the older set, seen while tuning the first
   version):

nDCG@10, recall@10 and MRR (relevance: the union of the two judgements in the dataset; nDCG@10 is
also given for each judgement alone, see evals/build_retrieval_set.py) of Casebook's hybrid search against a plain BM25 baseline (bm25s over
the passage text, the question as asked) and a plain dense baseline (Chroma on the question's
MiniLM vector), all measured in this run on evals/datasets/retrieval.jsonl, at review level.
Then warm latency p50/p95 of `search` and `ask` over the same questions (repeated). Uses the index
in $CASEBOOK_HOME, ingesting the bundled collection first if it is empty.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from assistant.casebook import Casebook
from evals.baselines import rankers
from evals.metrics import ndcg_at_k, recall_at_k, reciprocal_rank

DATASET = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "retrieval.jsonl"
GENERALISE = DATASET.with_name("generalise.jsonl")


def generalisation(cb: Casebook, systems: dict[str, Any]) -> dict[str, Any]:
    from assistant.refusal import in_scope
    from assistant.safety import safety_notice

    rows = [json.loads(line) for line in GENERALISE.read_text().splitlines() if line.strip()]
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


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cases = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    cb = Casebook()
    cb.ensure_indexed()
    systems = rankers(cb.retriever)
    general = generalisation(cb, systems)
    quality: dict[str, dict[str, float]] = {}
    per_case: dict[str, dict[str, float]] = {}
    splits = sorted({c.get("split", "tuning") for c in cases})
    for name, rank in systems.items():
        by_split: dict[str, list[float]] = {s: [] for s in splits}
        nd, rec, mrr, nd_text, nd_labels = [], [], [], [], []
        for case in cases:
            ranking = rank(case["question"])
            rel = set(case["relevant"])
            nd.append(ndcg_at_k(ranking, rel, 10))
            rec.append(recall_at_k(ranking, rel, 10))
            mrr.append(reciprocal_rank(ranking, rel))
            nd_text.append(ndcg_at_k(ranking, set(case["relevant_text"]), 10))
            if case["relevant_labels"]:
                nd_labels.append(ndcg_at_k(ranking, set(case["relevant_labels"]), 10))
            per_case.setdefault(case["id"], {})[name] = round(nd[-1], 3)
            by_split[case.get("split", "tuning")].append(nd[-1])
        quality[name] = {
            "ndcg@10": round(statistics.mean(nd), 4),
            "recall@10": round(statistics.mean(rec), 4),
            "mrr": round(statistics.mean(mrr), 4),
            "ndcg@10_text_criteria_only": round(statistics.mean(nd_text), 4),
            "ndcg@10_nspcc_labels_only": round(statistics.mean(nd_labels), 4),
            **{f"ndcg@10_{s}": round(statistics.mean(v), 4) for s, v in by_split.items()},
        }

    search_ms, ask_ms = [], []
    for _ in range(args.repeat):
        for case in cases:
            t = time.perf_counter()
            cb.search(case["question"], k=10)
            search_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            cb.ask(case["question"])
            ask_ms.append(1000 * (time.perf_counter() - t))
    latency = {
        "search_p50": round(_pct(search_ms, 0.5), 1),
        "search_p95": round(_pct(search_ms, 0.95), 1),
        "ask_p50": round(_pct(ask_ms, 0.5), 1),
        "ask_p95": round(_pct(ask_ms, 0.95), 1),
    }
    result = {
        "generalisation": general,
        "questions": len(cases),
        "quality": quality,
        "per_question_ndcg@10": per_case,
        "latency_ms": latency,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for split, g in general.items():
            n = g["ndcg@10"]
            print(
                f"generalisation, {split} split ({g['questions']} questions): nDCG@10 Casebook {n['casebook']:.3f}, "
                f"BM25 {n['bm25']:.3f}, dense {n['dense']:.3f} (×{g['casebook_vs_best_baseline']} the better baseline); "
                f"Casebook ≥ dense on {g['casebook_at_least_dense']:.0%}; out-of-scope refused {g['out_of_scope_refused']:.0%} "
                f"of {g['out_of_scope_questions']}, in-scope answered {g['in_scope_answered']:.0%}"
            )
        for name, q in quality.items():
            print(
                f"{name:9} nDCG@10 {q['ndcg@10']:.3f} (text criteria {q['ndcg@10_text_criteria_only']:.3f}, "
                f"NSPCC labels {q['ndcg@10_nspcc_labels_only']:.3f}; tuning {q['ndcg@10_tuning']:.3f}, "
                f"held-out {q['ndcg@10_held-out']:.3f})  recall@10 {q['recall@10']:.3f}  MRR {q['mrr']:.3f}"
            )
        print("latency (ms): " + ", ".join(f"{k} {v}" for k, v in latency.items()))


if __name__ == "__main__":
    main()
