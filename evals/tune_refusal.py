"""Choose the refusal constants (assistant/answers/refusal.py, assistant/question/scope.py) on the TUNING split only.

    python -m evals.tune_refusal

For every tuning question of evals/datasets/generalise.jsonl (in scope and out of scope) and every
case of evals/datasets/cases.jsonl, it records the nearest passage's cosine (``similarity``), the
nearest NSPCC label's cosine (``label_similarity``), the question's cosine with every off-topic
example (prompts/off_topic.toml), whether the question names a safeguarding concept, whether it
describes a live concern, and whether it names a source. A grid then tries how many off-topic examples
are averaged (``NEAREST``), their weight against the label, CONCEPT_FLOOR and STRONG_PASSAGE; for each
it finds the boundaries (ANSWERABLE) at which the refusal rate (out of scope) and the answer rate (in
scope) both reach TARGET on the tuning split and on cases.jsonl. Of the settings with such
boundaries, the one with the widest range of them wins, and its boundary is the middle of that range:
a boundary at the edge of what the tuning questions allow would be fitted to them. When no setting
reaches the target, the best worse-of-the-two-rates wins. The sealed test split is not read. Prints
the constants; ``--write`` writes them to records/tuned.toml [refusal] (a reviewed change).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from assistant.casebook import Casebook
from assistant.question.safety import safety_notice
from assistant.question.scope import mean_of_nearest
from evals.generalisation import GENERALISE
from evals.run import load_cases, read_jsonl
from records.tuned import write_section

TARGET = 0.98  # the generalisation issue's figure, for both rates
NEARESTS = (1, 3, 5, 8)
WEIGHTS = (0.0, 0.5, 0.75, 1.0, 1.25)  # 0: the label's cosine alone, as before off-topic examples
FLOORS = (0.2, 0.25, 0.3, 9.0)
STRONGS = (0.52, 0.56, 0.6, 0.7, 9.0)  # 9.0: a passage alone never answers; ties go to the first
BOUNDS = np.arange(-0.3, 0.7, 0.0025)


@dataclass(frozen=True)
class Row:
    refuse: bool
    source: str  # "tuning" or "cases"
    sim: float
    lab: float
    off: np.ndarray  # cosine with every off-topic example
    concept: bool
    named: bool


@dataclass(frozen=True)
class Choice:
    nearest: int
    weight: float
    bound: float
    floor: float
    strong: float
    width: float  # the range of boundaries meeting the target on both sets, over the score's spread (0: none)
    span: float  # the same range in the score's own units
    worst: float  # the worse of the two rates on the tuning split, summed with the same on cases


def features(cb: Casebook) -> list[Row]:
    items = [(r["refuse"], r["question"], "tuning") for r in read_jsonl(GENERALISE) if r["split"] == "tuning"]
    items += [(c.refuse, c.question, "cases") for c in load_cases() if c.corpus != "planted"]
    retriever = cb.retriever
    out = []
    for refuse, question, source in items:
        res = cb.search_scored(question, 10)
        vector = retriever.embedder.embed([question])[0]
        out.append(
            Row(
                refuse=refuse,
                source=source,
                sim=res.similarity,
                lab=res.label_similarity,
                off=retriever.off_topic.similarities(vector),
                concept=bool(res.concepts) or safety_notice(question) is not None,
                named=bool(res.named) and bool(res.hits),
            )
        )
    return out


def rates(rows: list[Row], answered: np.ndarray) -> tuple[float, float]:
    """(out-of-scope refused, in-scope answered)."""
    refuse = np.array([r.refuse for r in rows])
    return float((~answered[refuse]).mean()), float(answered[~refuse].mean())


def answered_at(rows: list[Row], nearest: int, weight: float, floor: float, strong: float, bounds: np.ndarray) -> np.ndarray:
    """assistant/answers/refusal.py's ``in_scope`` for every row at every boundary: a boundary × row array."""
    sim = np.array([r.sim for r in rows])
    score = np.array([r.lab - weight * mean_of_nearest(r.off, nearest) for r in rows])
    other = np.array([r.named for r in rows]) | (np.array([r.concept for r in rows]) & (sim >= floor)) | (sim >= strong)
    return (score[None, :] >= bounds[:, None]) | other[None, :]


def choose(rows: list[Row]) -> Choice:
    refuse = np.array([r.refuse for r in rows])
    lab = np.array([r.lab for r in rows])
    # Per set, the rows to refuse and the rows to answer; each boundary's rates are a mean over them.
    sets = [(refuse & part, ~refuse & part) for part in (np.array([r.source == s for r in rows]) for s in ("tuning", "cases"))]
    best: Choice | None = None
    for nearest in NEARESTS:
        off = np.array([mean_of_nearest(r.off, nearest) for r in rows])
        for weight in WEIGHTS:
            spread = float((lab - weight * off).std()) or 1.0  # widths compare across weights in units of the score's spread
            for floor in FLOORS:
                for strong in STRONGS:
                    answered = answered_at(rows, nearest, weight, floor, strong, BOUNDS)
                    each = [np.minimum((~answered[:, out]).mean(1), answered[:, keep].mean(1)) for out, keep in sets]
                    met = [bool(x) for x in np.all([e >= TARGET for e in each], axis=0)]
                    choice = _choice(nearest, weight, floor, strong, met, [float(x) for x in sum(each)], spread)
                    if best is None or (choice.width, choice.worst) > (best.width, best.worst):
                        best = choice
    assert best is not None
    return best


def _choice(nearest: int, weight: float, floor: float, strong: float, met: list[bool], worst: list[float], spread: float) -> Choice:
    """The middle of the longest run of boundaries that meet the target, else the best boundary."""
    run, longest, end = 0, 0, -1
    for i, ok in enumerate(met):
        run = run + 1 if ok else 0
        if run > longest:
            longest, end = run, i
    if longest:
        start = end - longest + 1
        middle = float((BOUNDS[start] + BOUNDS[end]) / 2)
        span = float(BOUNDS[end] - BOUNDS[start])
        return Choice(nearest, weight, round(middle, 4), floor, strong, span / spread, span, max(worst[start : end + 1]))
    i = int(np.argmax(worst))
    return Choice(nearest, weight, round(float(BOUNDS[i]), 4), floor, strong, 0.0, 0.0, worst[i])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.tune_refusal", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the constants to records/tuned.toml [refusal]")
    args = parser.parse_args(argv)
    cb = Casebook()
    cb.ensure_indexed()
    rows = features(cb)
    c = choose(rows)
    print(f"scope.NEAREST = {c.nearest}\nOFF_TOPIC_WEIGHT = {c.weight}\nANSWERABLE = {c.bound:.4f}")
    print(f"CONCEPT_FLOOR = {c.floor}\nSTRONG_PASSAGE = {c.strong}")
    print(f"boundaries meeting {TARGET:.0%} on both sets: a range {c.width:.3f} of the score's standard deviation wide ({c.span:.4f})")
    measured = []
    for source in ("tuning", "cases"):
        part = [r for r in rows if r.source == source]
        refused, kept = rates(part, answered_at(part, c.nearest, c.weight, c.floor, c.strong, np.array([c.bound]))[0])
        print(f"{source}: refused {refused:.3f} of out-of-scope, answered {kept:.3f} of in-scope")
        measured.append(f"{source}: refused {refused:.3f} of out-of-scope, answered {kept:.3f} of in-scope")
    if args.write:
        about = [
            "The refusal decision (assistant/answers/refusal.py, assistant/question/scope.py), by `python -m evals.tune_refusal",
            "--write` on the TUNING split (in-scope and out-of-scope questions) with evals/datasets/cases.jsonl; among settings",
            "meeting both rates, the one whose boundary can move furthest, the boundary at the middle of that range",
            f"({c.width:.3f} of the score's spread wide). " + "; ".join(measured) + ".",
        ]
        values = {"off_topic_nearest": c.nearest, "off_topic_weight": c.weight, "answerable": round(c.bound, 4)}
        write_section("refusal", {**values, "concept_floor": c.floor, "strong_passage": c.strong}, about)
        print("written to records/tuned.toml [refusal]")


if __name__ == "__main__":
    main()
