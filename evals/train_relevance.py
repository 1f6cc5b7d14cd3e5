"""Fit the relevance stage (assistant/answers/relevance.py) to the TUNING split's passage judgements.

    python -m evals.train_relevance [--write]

For every judged tuning question (evals/relevance.py's sample) it searches once, rebuilds each
judged passage's features (the candidate pool, the answer's quotes and plain dense's quotes carry
their section, source and rank), and fits a logistic model of "judged on" with L2 regularisation.
Held-out figures come from 5-fold cross-validation grouped by question family (the three
phrasings of one NSPCC label), so no question's passages are scored by a model that saw them or
its paraphrases. The thresholds are chosen on those out-of-fold scores:

- ``keep`` and ``most``: the threshold and the cap on quotes at which what an answer would quote
  (each question's best-scoring pool clauses at or above the threshold, up to the cap) is judged on
  most often, while leaving at most ``NOTHING_MAX`` of the questions with nothing to quote;
- ``head``: the lowest at which pool clauses are judged on at least ``HEAD_TARGET`` of the time;
- ``little``: ``keep`` (no clause at or above it: the collection has little on the question).

``--write`` writes records/tuned.toml [relevance] with the weights, thresholds and these figures.
``--grid`` (after fitting) chooses the thresholds again on what the whole pipeline quotes for the
judged tuning questions (themes, and the closest passages a "little on this" answer quotes): the
setting that meets most of the passage targets with no topic miss, then the highest on-share, then
the fewest "little" answers; with ``--write`` it rewrites the thresholds. The sealed test split is
never read.
"""

from __future__ import annotations

import argparse
import datetime
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answers.quotes import QueryTerms, best_point, clause_points
from assistant.answers.relevance import FEATURES, Clause, features
from assistant.answers.themes import ThemeSettings, pool
from assistant.casebook import Casebook
from assistant.retrieval import coverage
from assistant.routes import THEMED_SOURCES
from evals.relevance import DENSE_QUOTES, POOL_PER_SOURCE, load_judgements, sample_rows
from records.tuned import load_tuned, write_section
from records.types import ReviewHit
from vectorstore.embedder import unit_vectors

NOTHING_MAX = 0.15  # questions an answer may leave with nothing to quote (12 % of them have no clause judged on in the pool)
MOST = (4, 6, 8, 10)  # quotes an answer may show in all
HEAD_TARGET = 0.60
C = 1.0


def rows_for(cb: Casebook) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, on/not labels, question index and whether the clause is in the candidate pool."""
    judged = load_judgements(split="tuning")
    xs: list[np.ndarray] = []
    ys: list[bool] = []
    groups: list[int] = []
    in_pool: list[bool] = []
    for qi, row in enumerate(sample_rows("tuning")):
        q = row["question"]
        result = cb.search_scored(q, THEMED_SOURCES)
        topic = coverage.topic(cb.retriever, q, result)
        rank = {h.doc_id: i for i, h in enumerate(result.hits)}
        clauses: dict[str, Clause] = {}
        pooled: set[str] = set()

        def add(
            quote: str, section: str, kind: str, doc_id: str, clauses: dict[str, Clause] = clauses, rank: dict[str, int] = rank
        ) -> None:
            clauses.setdefault(quote, Clause(quote, section, kind, doc_id, rank.get(doc_id, 20)))

        _, points = pool(
            q, result.hits, ThemeSettings(per_source=POOL_PER_SOURCE), on_topic=topic.on_label, complete=cb.retriever.with_findings
        )
        for p in points:
            add(p.quote, p.section, p.chunk.kind, p.hit.doc_id)
            pooled.add(p.quote)
        query = QueryTerms.of(q)
        for found in cb.retriever.with_findings(result.hits):  # every clause an earlier answer may have quoted
            for passage in found.passages:
                for p in clause_points(found, passage.chunk, query):
                    add(p.quote, p.section, p.chunk.kind, p.hit.doc_id)
        for h in cb.retriever.dense(q, DENSE_QUOTES):
            p = best_point(ReviewHit(h.chunk.doc_id, h.score, (h,)), query)
            add(p.quote, p.section, p.chunk.kind, p.hit.doc_id)
        mine = [(c, judged[(row["id"], quote)].label) for quote, c in clauses.items() if (row["id"], quote) in judged]
        if not mine:
            continue
        vectors = unit_vectors(cb.embedder, [q, *(c.quote for c, _ in mine)])
        reference = np.asarray([c.quote in pooled for c, _ in mine])  # gaps from the best of the candidate pool, as at run time
        x = features(q, topic, [c for c, _ in mine], vectors[1:], vectors[0], reference)
        xs.append(x)
        ys.extend(label == "on" for _, label in mine)
        groups.extend([qi] * len(mine))
        in_pool.extend(c.quote in pooled for c, _ in mine)
    return np.vstack(xs), np.asarray(ys, dtype=bool), np.asarray(groups), np.asarray(in_pool, dtype=bool)


def fit(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000).fit(x, y)


def families(groups: np.ndarray) -> np.ndarray:
    """Each row's question family: the NSPCC label its question was written about. The generalisation
    set phrases each label three ways, so folds grouped by question alone would score a question with
    a model fitted on its paraphrases; out-of-fold figures group by family."""
    rows = sample_rows("tuning")
    names = sorted({r["label"] for r in rows})
    return np.asarray([names.index(rows[int(g)]["label"]) for g in groups])


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> np.ndarray:
    """Out-of-fold probabilities, the folds made of whole ``groups`` (question families)."""
    p = np.zeros(len(y))
    for k in range(folds):
        test = groups % folds == k
        p[test] = fit(x[~test], y[~test]).predict_proba(x[test])[:, 1]
    return p


def auc(p: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y.sum()
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))


def simulated(p: np.ndarray, y: np.ndarray, groups: np.ndarray, in_pool: np.ndarray, keep: float, most: int) -> tuple[float, float]:
    """On-share of what an answer would quote at ``keep`` (each question's best pool clauses, up to
    the cap) and the share of questions left with nothing to quote."""
    by_q: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for pi, yi, g, ok in zip(p, y, groups, in_pool, strict=True):
        if ok:
            by_q[int(g)].append((float(pi), bool(yi)))
    quoted = []
    empty = 0
    for items in by_q.values():
        chosen = sorted((i for i in items if i[0] >= keep), reverse=True)[:most]
        quoted += [yi for _, yi in chosen]
        empty += not chosen
    return (sum(quoted) / len(quoted) if quoted else 0.0), empty / max(1, len(by_q))


GRID = {"keep": (0.45, 0.5, 0.55), "head": (0.6, 0.65, 0.7), "most": (5, 8)}
TARGETS = (("on_share", 0.80, 1), ("first_five_on_share", 0.90, 1), ("off_share", 0.05, -1), ("heading_on_share", 0.85, 1))


def grid(cb: Casebook, write: bool) -> None:
    """The thresholds chosen on what the whole pipeline quotes for the tuning split's judged questions
    (themes, the closest passages of a "little on this" answer): the setting meeting most of the
    passage targets with no topic miss, then the highest on-share, then the fewest "little" answers."""
    import tempfile

    from evals.relevance import report_split
    from records.settings import load_settings

    current = load_tuned()["relevance"]
    judged = load_judgements(split="tuning")
    best: tuple[tuple[float, ...], dict[str, Any]] | None = None
    for keep in GRID["keep"]:
        for head in GRID["head"]:
            for most in GRID["most"]:
                path = Path(tempfile.mkdtemp()) / "relevance.toml"
                path.write_text(model_toml(current["bias"], current["weights"], keep, head, int(most)), encoding="utf-8")
                trial_cb = Casebook(load_settings(home=cb.settings.home, relevance_model=str(path)), embedder=cb.embedder)
                r = report_split(trial_cb, "tuning", judged)
                little = r["little_answers"]
                met = sum((r[k] or 0) * sign >= target * sign for k, target, sign in TARGETS) + (r["topic_misses"] == 0)
                key = (met, r["on_share"] or 0.0, -little)
                row = {"keep": keep, "head": head, "most": most, "little": little, **{k: r[k] for k, _, _ in TARGETS}}
                row["topic_misses"] = r["topic_misses"]
                print(json.dumps(row), flush=True)
                if best is None or key > best[0]:
                    best = (key, row)
    assert best is not None
    print("chosen:", json.dumps(best[1]))
    if write:
        chosen = best[1]
        about = [line for line in current["about"] if not line.startswith("Thresholds by")]
        about.append(
            "Thresholds by `python -m evals.train_relevance --grid --write` on the whole pipeline's quotes for the tuning split's "
            f"judged questions: {json.dumps(chosen)}"
        )
        thresholds = {"keep": chosen["keep"], "head": chosen["head"], "little": chosen["keep"], "most": chosen["most"]}
        write_section("relevance", {"bias": current["bias"], "weights": dict(current["weights"]), "thresholds": thresholds}, about)
        print("thresholds written to records/tuned.toml [relevance]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write records/tuned.toml [relevance]")
    parser.add_argument("--grid", action="store_true", help="choose the thresholds on the whole pipeline's quotes (after fitting)")
    args = parser.parse_args(argv)
    cb = Casebook()
    cb.ensure_indexed()
    if args.grid:
        grid(cb, args.write)
        return 0
    x, y, groups, in_pool = rows_for(cb)
    print(f"{len(load_judgements(split='tuning'))} tuning judgements; {len(y)} matched to a clause of the retrieved sources")
    p = out_of_fold(x, y, families(groups))
    print(
        f"{len(y)} judged tuning passages over {len(set(groups.tolist()))} questions, {y.mean():.3f} judged on; "
        f"out-of-fold AUC {auc(p, y):.3f}"
    )
    best: tuple[float, float, int] | None = None  # (on-share, keep, most)
    head = None
    for t in np.round(np.arange(0.05, 0.95, 0.05), 2):
        sel = in_pool & (p >= t)
        prec = float(y[sel].mean()) if sel.any() else 0.0
        cells = []
        for most in MOST:
            share, empty = simulated(p, y, groups, in_pool, float(t), most)
            cells.append(f"{most}: {share:.3f}/{empty:.2f}")
            if empty <= NOTHING_MAX and (best is None or share > best[0] + 1e-9):
                best = (share, float(t), most)
        print(f"threshold {t:.2f}: pool precision {prec:.3f} ({sel.sum()}); quotes: on-share/nothing " + ", ".join(cells))
        if head is None and prec >= HEAD_TARGET:
            head = float(t)
    assert best is not None
    _, keep, most = best
    head = max(keep, head if head is not None else keep)
    model = fit(x, y)
    weights = dict(zip(FEATURES, model.coef_[0].tolist(), strict=True))
    share, empty = simulated(p, y, groups, in_pool, keep, most)
    print(
        f"chosen: keep {keep}, head {head}, at most {most} quotes; "
        f"out-of-fold answer on-share {share:.3f}, questions with nothing {empty:.3f}"
    )
    for f, w in weights.items():
        print(f"  {f:16s} {w:+.3f}")
    if args.write:
        write(weights, float(model.intercept_[0]), keep, head, most, len(y), len(set(groups.tolist())), auc(p, y), share, empty)
        print("written to records/tuned.toml [relevance]")
    return 0


def write(
    weights: dict[str, float],
    bias: float,
    keep: float,
    head: float,
    most: int,
    n: int,
    questions: int,
    oof_auc: float,
    share: float,
    empty: float,
) -> None:
    about = [
        "The relevance stage's logistic model (assistant/answers/relevance.py): P(a practitioner judges a clause on the question).",
        f"Fitted by `python -m evals.train_relevance --write` on {datetime.date.today().isoformat()} to the TUNING split's judgements",
        f"only (evals/datasets/relevance.jsonl: {n} passages of {questions} questions; the sealed test split unread).",
        f"Out-of-fold (5 folds grouped by question family): AUC {oof_auc:.3f}; what an answer would quote at `keep` judged on {share:.3f},",
        f"questions left with nothing to quote {empty:.3f}. keep and most: the highest answer on-share leaving at most",
        f"{NOTHING_MAX} of questions with nothing; head: lowest reaching {HEAD_TARGET} precision over the pool; little: = keep.",
    ]
    thresholds = {"keep": keep, "head": head, "little": keep, "most": most}
    write_section(
        "relevance", {"bias": round(bias, 6), "weights": {k: round(v, 6) for k, v in weights.items()}, "thresholds": thresholds}, about
    )


def model_toml(bias: float, weights: Mapping[str, float], keep: float, head: float, most: int) -> str:
    """A relevance model as a file of its own (the ``relevance_model`` setting reads one)."""
    lines = [f"bias = {bias!r}", "", "[weights]", *(f"{k} = {v!r}" for k, v in weights.items()), "", "[thresholds]"]
    return "\n".join([*lines, f"keep = {keep}", f"head = {head}", f"little = {keep}", f"most = {most}", ""])


if __name__ == "__main__":
    raise SystemExit(main())
