"""Choose the theme settings (assistant/answers/themes.py ``ThemeSettings``) on the TUNING split only.

    python -m evals.tune_themes

Searches each tuning question once, then (unless Casebook refuses it: that counts as nothing cited,
as in evals/synthesis.py) composes its themed answer under each setting of a small grid (embeddings
memoised), and scores citation precision (of the case reviews cited), citation recall (over
min(relevant, 8)) and the share of answers with two multi-source themes, as evals/synthesis.py
defines them, each as a share of its target (0.70, 0.60, 0.80; capped at 1) and averaged; between
settings that meet every target, the widest margin on the tightest one wins. Prints each improvement
and the grid's best; ``--write`` writes it to records/tuned.toml [themes] (a reviewed change). The
sealed test split is never read.
Theme purity is not in the objective: the support judge is lexical, and grouping by meaning puts
paraphrases together that it does not match (evals/synthesis.py reports it).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
from functools import partial
from pathlib import Path
from typing import Any

from assistant.answers.refusal import in_scope
from assistant.answers.themes import ThemeSettings, themed_answer
from assistant.casebook import Casebook
from assistant.question.safety import safety_notice
from assistant.retrieval import coverage as topic_coverage
from assistant.routes import THEMED_SOURCES
from evals.generalisation import GENERALISE, in_scope_rows
from evals.synthesis import cited_scores
from evals.tune_retrieval import CachedEmbedder
from records.tuned import write_section
from records.types import Filters

TARGETS = {"precision": 0.70, "recall": 0.60, "themed": 0.80}
GRID: dict[str, tuple[Any, ...]] = {
    "sources": (6, 7, 8, 9, 10, 12),
    "least": (4, 5, 6, 8),
    "per_source": (3, 4),
    "relevance": (0.0, 0.1, 0.2),
    "group": (0.3, 0.35, 0.4, 0.45),
}


def score(cb: Casebook, searched: list[tuple[dict[str, Any], Any, Any]], embed: Any, cfg: ThemeSettings) -> dict[str, float]:
    precision, recall, themed = [], [], []
    complete = cb.retriever.with_findings
    for row, result, coverage in searched:
        if not in_scope(result, live_concern=safety_notice(row["question"]) is not None):
            precision.append(0.0)  # refused: nothing cited, as evals/synthesis.py counts it
            recall.append(0.0)
            themed.append(0.0)
            continue
        on_topic = topic_coverage.on_topic(cb.retriever, result)
        answer = themed_answer(row["question"], result.hits, coverage, embed, settings=cfg, on_topic=on_topic, complete=complete)
        if answer is None:  # the plain answer: one point per source, top six
            cited = [h.best for h in result.hits[:6]]
            themes = 0
        else:
            cited = [c.chunk for c in answer.citations]
            themes = sum(1 for t in answer.themes if t.reviews >= 2)
        p, _, r = cited_scores(cited, set(row["relevant"]))
        precision.append(p)
        recall.append(r)
        themed.append(float(themes >= 2))
    out = {"precision": statistics.mean(precision), "recall": statistics.mean(recall), "themed": statistics.mean(themed)}
    # Each figure as a share of the synthesis issue's target, capped at 1, averaged: a setting is not
    # rewarded for overshooting one target while missing another.
    out["objective"] = statistics.mean(min(1.0, out[k] / target) for k, target in TARGETS.items())
    # Between settings that meet every target, the one with the widest margin on its tightest target.
    out["margin"] = min(out[k] / target for k, target in TARGETS.items())
    return out


def main(argv: list[str] | None = None, path: Path = GENERALISE) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.tune_themes", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the grid's best to records/tuned.toml [themes]")
    args = parser.parse_args(argv)
    cb = Casebook()
    cb.ensure_indexed()
    embed = CachedEmbedder(cb.embedder)
    rows = in_scope_rows("tuning", path)
    searched = []
    for row in rows:
        result = cb.search_scored(row["question"], THEMED_SOURCES)
        coverage = partial(topic_coverage.count, cb.retriever, row["question"], result, Filters(), [h.doc_id for h in result.hits])
        searched.append((row, result, coverage))
    best: tuple[float, ThemeSettings, dict[str, float]] | None = None
    for values in itertools.product(*GRID.values()):
        cfg = dataclasses.replace(ThemeSettings(), **dict(zip(GRID, values, strict=True)))
        s = score(cb, searched, embed.embed, cfg)
        tied = best is not None and abs(s["objective"] - best[0]) <= 1e-9
        if best is None or s["objective"] > best[0] + 1e-9 or (tied and s["margin"] > best[2]["margin"] + 1e-9):
            best = (s["objective"], cfg, s)
            print(json.dumps({**dict(zip(GRID, values, strict=True)), **{k: round(v, 3) for k, v in s.items()}}), flush=True)
    assert best is not None
    print("best:", best[1], {k: round(v, 3) for k, v in best[2].items()})
    if args.write:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in best[2].items())
        about = [
            "How themes are drawn (assistant/answers/themes.py). " + ", ".join(GRID) + " by `python -m evals.tune_themes --write`",
            f"on the TUNING split (citation precision, recall and two-theme answers against their targets): {scores}.",
            "The other numbers are chosen by hand. Which clauses may be quoted is the relevance section's decision.",
        ]
        write_section("themes", dataclasses.asdict(best[1]), about)
        print("written to records/tuned.toml [themes]")


if __name__ == "__main__":
    main()
