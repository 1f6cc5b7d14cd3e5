"""Calibrate the offline support judge on the hand-labelled set and report its agreement.

    python -m evals.calibrate [--write]

Tries weights 0.0–1.0 (step 0.1) and every threshold between observed scores; keeps the pair with the
highest accuracy (ties: the weight nearer 0.5, then the middle threshold). Reports accuracy and
Cohen's kappa against the labels. ``--write`` stores the result in records/tuned.toml [support].
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path

from assistant.answers.support import JudgeConfig, OverlapJudge, clean_statement, coverage
from evals.run import read_jsonl
from records.tuned import write_section
from vectorstore.embedder import load_embedder

LABELS = Path(__file__).parent / "datasets" / "support_labels.jsonl"


def kappa(pred: list[bool], gold: list[bool]) -> float:
    n = len(gold)
    agree = sum(p == g for p, g in zip(pred, gold, strict=True)) / n
    p_yes = (sum(pred) / n) * (sum(gold) / n)
    p_no = (1 - sum(pred) / n) * (1 - sum(gold) / n)
    expected = p_yes + p_no
    return (agree - expected) / (1 - expected) if expected < 1 else 1.0


def calibrate() -> dict[str, float]:
    rows = read_jsonl(LABELS)
    gold = [bool(r["supported"]) for r in rows]
    embedder = load_embedder()
    statements = [clean_statement(r["statement"]) for r in rows]
    vectors = embedder.embed([*statements, *(r["evidence"] for r in rows)])
    n = len(rows)
    cos = [sum(a * b for a, b in zip(vectors[i], vectors[n + i], strict=True)) for i in range(n)]
    cov = [coverage(s, r["evidence"]) for s, r in zip(statements, rows, strict=True)]
    acc, w, t = _fit(cos, cov, gold)
    # Leave-one-out: fit on all pairs but one, predict that one; an honest estimate of agreement.
    loo = 0
    for i in range(n):
        keep = [j for j in range(n) if j != i]
        _, wi, ti = _fit([cos[j] for j in keep], [cov[j] for j in keep], [gold[j] for j in keep])
        loo += ((wi * cos[i] + (1 - wi) * cov[i]) >= ti) == gold[i]
    judge = OverlapJudge(embedder, JudgeConfig(weight=w, threshold=t))
    pred = [s >= t for s in judge.scores([(r["statement"], r["evidence"]) for r in rows])]
    return {
        "pairs": n,
        "weight": w,
        "threshold": round(t, 4),
        "accuracy": round(acc, 4),
        "kappa": round(kappa(pred, gold), 4),
        "leave_one_out_accuracy": round(loo / n, 4),
    }


def _fit(cos: list[float], cov: list[float], gold: list[bool]) -> tuple[float, float, float]:
    """(accuracy, weight, threshold) of the best weight/threshold pair on these pairs."""
    n = len(gold)
    best: tuple[float, float, float, float] | None = None  # accuracy, -|w-0.5|, weight, threshold
    for step in range(11):
        w = step / 10
        scores = [w * c + (1 - w) * v for c, v in zip(cos, cov, strict=True)]
        for lo, hi in pairwise(sorted(set(scores))):
            t = (lo + hi) / 2
            acc = sum((s >= t) == g for s, g in zip(scores, gold, strict=True)) / n
            key = (acc, -abs(w - 0.5), w, t)
            if best is None or key[:2] > best[:2]:
                best = key
    assert best is not None
    return best[0], best[2], best[3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    result = calibrate()
    print(json.dumps(result, indent=2))
    if args.write:
        about = [
            "The offline support judge (assistant/answers/support.py), by `python -m evals.calibrate --write` on",
            f"evals/datasets/support_labels.jsonl: {result['pairs']} hand-labelled pairs, accuracy {result['accuracy']}, "
            f"Cohen's kappa {result['kappa']}, leave-one-out {result['leave_one_out_accuracy']}.",
        ]
        write_section("support", {"weight": result["weight"], "threshold": result["threshold"]}, about)
        print("written to records/tuned.toml [support]")


if __name__ == "__main__":
    main()
