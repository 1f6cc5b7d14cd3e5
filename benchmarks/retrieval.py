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
Then warm latency p50/p95 of `search` and `ask` over the same questions (repeated); of `ask` in a
Casebook just opened (``ask_opened``: each question asked once, the candidate clauses' vectors read
from those the index keeps, assistant/answers/quote_vectors.py: what a fresh process or a one-off
`casebook ask` gets); and with nothing remembered at all (``ask_first``: every candidate clause
embedded afresh, as for an index whose quote vectors were never kept). Uses the index in
$CASEBOOK_HOME, ingesting the bundled collection first if it is empty.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from assistant.casebook import Casebook
from assistant.routes import Router
from benchmarks.timing import percentile
from evals.baselines import rankers
from evals.generalisation import generalisation, summary_line
from evals.metrics import ndcg_at_k, recall_at_k, reciprocal_rank
from evals.run import read_jsonl

DATASET = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "retrieval.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cases = read_jsonl(DATASET)
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

    search_ms, ask_ms, first_ms, opened_ms = [], [], [], []
    forgetful = Router(cb.retriever, cb.embedder, cb.relevance, cb.writer)  # remembers no clause's vector
    for case in cases:
        t = time.perf_counter()
        forgetful.answer(cb.question(case["question"]))
        first_ms.append(1000 * (time.perf_counter() - t))
    opened = Casebook(cb.settings, embedder=cb.embedder)  # as a process starts: the index's kept quote vectors, nothing else
    opened.retriever  # noqa: B018 (opening the index is start-up, not an answer)
    for case in cases:
        t = time.perf_counter()
        opened.ask(case["question"])
        opened_ms.append(1000 * (time.perf_counter() - t))
    for _ in range(args.repeat):
        for case in cases:
            t = time.perf_counter()
            cb.search(case["question"], k=10)
            search_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            cb.ask(case["question"])
            ask_ms.append(1000 * (time.perf_counter() - t))
    latency = {
        "search_p50": round(percentile(search_ms, 0.5), 1),
        "search_p95": round(percentile(search_ms, 0.95), 1),
        "ask_p50": round(percentile(ask_ms, 0.5), 1),
        "ask_p95": round(percentile(ask_ms, 0.95), 1),
        "ask_first_p50": round(percentile(first_ms, 0.5), 1),
        "ask_first_p95": round(percentile(first_ms, 0.95), 1),
        "ask_opened_p50": round(percentile(opened_ms, 0.5), 1),
        "ask_opened_p95": round(percentile(opened_ms, 0.95), 1),
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
            print(summary_line(split, g))
        for name, q in quality.items():
            print(
                f"{name:9} nDCG@10 {q['ndcg@10']:.3f} (text criteria {q['ndcg@10_text_criteria_only']:.3f}, "
                f"NSPCC labels {q['ndcg@10_nspcc_labels_only']:.3f}; tuning {q['ndcg@10_tuning']:.3f}, "
                f"held-out {q['ndcg@10_held-out']:.3f})  recall@10 {q['recall@10']:.3f}  MRR {q['mrr']:.3f}"
            )
        print("latency (ms): " + ", ".join(f"{k} {v}" for k, v in latency.items()))


if __name__ == "__main__":
    main()
