"""Choose the refusal constants (assistant/refusal.py) on the TUNING split only.

    python -m evals.tune_refusal

For every tuning question of evals/datasets/generalise.jsonl (in scope and out of scope) and every
case of evals/datasets/cases.jsonl, it records the nearest passage's cosine (``similarity``), the
nearest NSPCC label's cosine (``label_similarity``), whether the question names a safeguarding
concept, and whether it describes a live concern. A class-balanced logistic regression on the two
similarities gives the ANSWERABLE boundary (as ``label_similarity + w × similarity``); a grid then
chooses the boundary's offset, CONCEPT_FLOOR and STRONG_PASSAGE to maximise the worse of the refusal
rate (out of scope) and the answer rate (in scope) on the tuning split plus the same on cases.jsonl.
The sealed test split is not read. Prints the constants; copying them is a reviewed step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assistant.casebook import Casebook
from assistant.safety import safety_notice
from evals.generalisation import GENERALISE
from evals.run import load_cases, read_jsonl


def features(cb: Casebook) -> list[dict[str, Any]]:
    items = [(r["refuse"], r["question"], "tuning") for r in read_jsonl(GENERALISE) if r["split"] == "tuning"]
    items += [(c.refuse, c.question, "cases") for c in load_cases() if c.corpus != "planted"]
    out = []
    for refuse, question, source in items:
        res = cb.search_scored(question, 10)
        concept = bool(res.concepts) or safety_notice(question) is not None
        out.append({"refuse": refuse, "sim": res.similarity, "lab": res.label_similarity, "concept": concept, "source": source})
    return out


def logistic(rows: list[dict[str, Any]], steps: int = 4000, lr: float = 0.5) -> float:
    """The weight of ``sim`` relative to ``lab`` in a class-balanced logistic regression."""
    a = np.array([[r["sim"], r["lab"]] for r in rows])
    y = np.array([0.0 if r["refuse"] else 1.0 for r in rows])
    mu, sd = a.mean(0), a.std(0) + 1e-9
    z = (a - mu) / sd
    w, b = np.zeros(2), 0.0
    cw = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        g = (1 / (1 + np.exp(-(z @ w + b))) - y) * cw
        w -= lr * (z.T @ g / len(y) + 0.01 * w)
        b -= lr * g.mean()
    return float((w[0] / sd[0]) / (w[1] / sd[1]))


def rates(rows: list[dict[str, Any]], weight: float, bound: float, floor: float, strong: float) -> tuple[float, float]:
    def answer(r: dict[str, Any]) -> bool:
        return r["lab"] + weight * r["sim"] >= bound or (r["concept"] and r["sim"] >= floor) or r["sim"] >= strong

    out_ = [r for r in rows if r["refuse"]]
    in_ = [r for r in rows if not r["refuse"]]
    return sum(not answer(r) for r in out_) / len(out_), sum(answer(r) for r in in_) / len(in_)


def main() -> None:
    cb = Casebook()
    cb.ensure_indexed()
    rows = features(cb)
    # A nearer passage never argues for refusing: a negative fitted weight (the phrasings' label
    # vectors separate the tuning split almost alone, and the fit then leans on noise) is taken as 0.
    weight = max(0.0, logistic([r for r in rows if r["source"] == "tuning"]))
    best: tuple[float, float, float, float] | None = None
    best_score = -1.0
    for bound in np.arange(0.35, 0.70, 0.0025):
        for floor in (0.2, 0.25, 0.3, 0.35, 0.4, 9.0):
            for strong in (0.5, 0.52, 0.54, 0.56, 0.58, 0.6, 9.0):
                t = rates([r for r in rows if r["source"] == "tuning"], weight, bound, floor, strong)
                c = rates([r for r in rows if r["source"] == "cases"], weight, bound, floor, strong)
                if min(t) + min(c) > best_score + 1e-9:
                    best_score, best = min(t) + min(c), (weight, float(bound), floor, strong)
    assert best is not None
    weight, bound, floor, strong = best
    tuning = rates([r for r in rows if r["source"] == "tuning"], *best)
    cases = rates([r for r in rows if r["source"] == "cases"], *best)
    print(f"SIMILARITY_WEIGHT = {weight:.3f}\nANSWERABLE = {bound:.3f}\nCONCEPT_FLOOR = {floor}\nSTRONG_PASSAGE = {strong}")
    print(f"tuning split: refused {tuning[0]:.3f} of out-of-scope, answered {tuning[1]:.3f} of in-scope")
    print(f"cases.jsonl: refused {cases[0]:.3f} of out-of-scope, answered {cases[1]:.3f} of the rest")


if __name__ == "__main__":
    main()
