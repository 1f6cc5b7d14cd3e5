"""Choose retrieval's fusion weights and label settings on the TUNING split only.

    python -m evals.tune_retrieval [--rounds 2] [--json]

Coordinate ascent from the current defaults (assistant/retrieval/ranking.py ``RetrievalConfig``): each
parameter in turn is set to each of a few values, keeping whichever gives the best mean nDCG@10 on
the tuning split's in-scope questions of evals/datasets/generalise.jsonl (ties keep the current
value), refusing any move that takes the evaluation cases' retrieval nDCG@10 (evals/datasets/
cases.jsonl: named reviews, themes, unlabelled briefings) below the committed baseline minus its
tolerance. Without that guard the ascent drops every list but the inferred labels, because the
benchmark's relevance *is* the labels; users' own documents carry none. The sealed test split is
never read here. Prints the chosen configuration; ``--write`` writes it to records/tuned.toml
[retrieval] and [labels] (a reviewed change).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.casebook import Casebook
from assistant.retrieval.ranking import RetrievalConfig, Retriever
from evals.generalisation import GENERALISE, in_scope_rows
from evals.metrics import ndcg_at_k
from evals.run import DATASET as CASES
from evals.run import DEFAULT_TOLERANCE, load_baseline, load_cases
from records.tuned import write_section

WEIGHT_GRID = {
    "dense": (0.0, 0.5, 1.0, 2.0),
    "dense_expanded": (0.0, 0.5, 1.0, 2.0),
    "lexical": (0.0, 0.25, 0.5, 1.0),
    "review_bm25": (0.0, 0.5, 1.0, 2.0),
    "review_bm25_plain": (0.0, 0.5, 1.0, 2.0),
    "labels": (0.0, 0.5, 1.0),
    "inferred": (0.0, 2.0, 4.0, 8.0, 16.0, 32.0),
}
VOCABULARY_GRID = (1.0, 4.0, 8.0, 16.0, 32.0)  # RetrievalConfig.inferred_with_vocabulary
LABEL_GRID: dict[str, tuple[Any, ...]] = {
    "meaning_top": (1, 2, 3, 5, 8),
    "meaning_floor": (0.2, 0.3, 0.4),
    "feedback_docs": (5, 10, 20),
    "feedback_top": (2, 3, 5, 8),
    "feedback_weight": (0.0, 0.5, 1.0, 2.0),
    "evidence_weight": (0.0, 0.1, 0.25, 0.5),
    "evidence_top": (3, 5, 8),
}


class CachedEmbedder:
    """The real embedder, memoised: the same questions are embedded once for the whole search."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "embedder")
        self.cache: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return [self.cache[t] for t in texts]


def tuning_rows(path: Path = GENERALISE) -> list[dict[str, Any]]:
    return in_scope_rows("tuning", path)


def guard_rows(path: Path = CASES) -> list[dict[str, Any]]:
    """The evaluation's in-scope cases, as rows ``score`` reads: named reviews, themes, briefings."""
    return [{"question": c.question, "relevant": list(c.expected_sources)} for c in load_cases(path) if c.type == "in_scope"]


def score(r: Retriever, rows: Sequence[dict[str, Any]]) -> float:
    return statistics.mean(ndcg_at_k([h.doc_id for h in r.search(row["question"], k=10)], set(row["relevant"]), 10) for row in rows)


def with_weight(config: RetrievalConfig, name: str, value: float) -> RetrievalConfig:
    weights = dict(config.weights)
    weights[name] = value
    return dataclasses.replace(config, weights=tuple(weights.items()))


def with_label(config: RetrievalConfig, name: str, value: Any) -> RetrievalConfig:
    return dataclasses.replace(config, labels=dataclasses.replace(config.labels, **{name: value}))


def with_vocabulary(config: RetrievalConfig, name: str, value: float) -> RetrievalConfig:
    return dataclasses.replace(config, inferred_with_vocabulary=value)


def tune(
    r: Retriever, rows: Sequence[dict[str, Any]], rounds: int, guard: Sequence[dict[str, Any]] = (), floor: float = 0.0
) -> tuple[RetrievalConfig, float, list[str]]:
    """Coordinate ascent on ``rows``; a move that takes ``guard``'s nDCG@10 below ``floor`` is refused."""
    best = r.config
    r.config = best
    best_score = score(r, rows)
    log = [f"start {best_score:.4f}" + (f" (guard {score(r, guard):.4f}, floor {floor:.4f})" if guard else "")]
    for _ in range(rounds):
        moves = (
            [(with_weight, n, v) for n, vs in WEIGHT_GRID.items() for v in vs]
            + [(with_label, n, v) for n, vs in LABEL_GRID.items() for v in vs]
            + [(with_vocabulary, "inferred_with_vocabulary", v) for v in VOCABULARY_GRID]
        )
        for change, name, value in moves:
            trial = change(best, name, value)
            if trial == best:
                continue
            r.config = trial
            s = score(r, rows)
            if s > best_score + 1e-4:
                g = score(r, guard) if guard else None
                if g is not None and g < floor:
                    log.append(f"  refused {name} = {value}: {s:.4f} but guard {g:.4f}")
                    continue
                best, best_score = trial, s
                log.append(f"{name} = {value}: {s:.4f}" + (f" (guard {g:.4f})" if g is not None else ""))
    r.config = best
    return best, best_score, log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the result to records/tuned.toml [retrieval] and [labels]")
    parser.add_argument(
        "--guard-floor",
        type=float,
        default=None,
        help="refuse moves that take the evaluation cases' retrieval nDCG@10 below this "
        "(default: the committed baseline's value minus its tolerance)",
    )
    args = parser.parse_args()
    cb = Casebook()
    cb.ensure_indexed()
    base = cb.retriever
    r = Retriever(base.store, base.catalog, CachedEmbedder(cb.embedder), cache_dir=cb.settings.cache_dir, config=RetrievalConfig())
    rows = tuning_rows()
    baseline = load_baseline()
    floor = args.guard_floor
    if floor is None:
        floor = baseline.metrics["retrieval_ndcg@10"] - float(baseline.tolerances.get("retrieval_ndcg@10", DEFAULT_TOLERANCE))
    config, best, log = tune(r, rows, args.rounds, guard_rows(), floor)
    result = {
        "tuning_questions": len(rows),
        "ndcg@10": round(best, 4),
        "weights": dict(config.weights),
        "labels": dataclasses.asdict(config.labels),
        "inferred_with_vocabulary": config.inferred_with_vocabulary,
    }
    if args.json:
        print(json.dumps({**result, "log": log}, indent=2))
    else:
        print("\n".join(log))
        print(json.dumps(result, indent=2))
    if args.write:
        how = (
            f"by `python -m evals.tune_retrieval --write` (coordinate ascent, {args.rounds} rounds) on the TUNING split's "
            f"{len(rows)} in-scope questions of evals/datasets/generalise.jsonl: nDCG@10 {best:.4f}; no move took the evaluation "
            f"cases' retrieval nDCG@10 below {floor:.4f} (the committed baseline minus its tolerance)."
        )
        write_section(
            "retrieval",
            {"weights": dict(config.weights), "inferred_with_vocabulary": config.inferred_with_vocabulary},
            ["Weight of each ranked list in the reviews' fusion (assistant/retrieval/ranking.py), " + how],
        )
        write_section("labels", dataclasses.asdict(config.labels), ["How NSPCC labels are inferred (assistant/question/labels.py), " + how])
        print("written to records/tuned.toml [retrieval] and [labels]")


if __name__ == "__main__":
    main()
