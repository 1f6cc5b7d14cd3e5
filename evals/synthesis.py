"""How well answers synthesise across reviews, on the generalisation set (relevance = NSPCC's labels).

    python -m evals.synthesis [--json]

For every in-scope question of each split of evals/datasets/generalise.jsonl it asks Casebook (the
extractive answer) and measures, then averages per split:

- **citation precision**: the share of the reviews an answer cites that are relevant (as the
  synthesis issue words it: only case reviews carry NSPCC's labels, so briefings and guidance an
  answer also cites are left out of this share); ``precision_all_sources`` counts every source cited,
  a briefing or guidance page as not relevant;
- **citation recall**: distinct relevant reviews cited, over min(relevant, 8);
- **themed**: the share of answers with at least two themes each made by two or more sources;
- **theme purity**: of the supporting quotes of multi-source themes, the share the support judge
  (assistant/answers/support.py) finds to say what the theme's headline says;
- **verbatim**: every quote a verbatim slice of its passage and every [n] resolving;
- ask latency p50;
- with a language model (``--llm``, ``--llm-style headlines``): **headlines written**, the share of
  multi-source themes whose headline is the model's checked sentence rather than the verbatim clause,
  and **answers kept / fell back**, as the evaluation reports them for whole answers.

Consumes a ``Casebook``; produces a dict per split. The tuning split may be used to choose the theme
settings; the test split only reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from assistant.answers.support import OverlapJudge
from assistant.casebook import Casebook
from evals.generalisation import in_scope_rows
from evals.metrics import Cited, citation_validity
from records.settings import load_settings
from records.types import Chunk

RECALL_CAP = 8


def cited_scores(cited: Sequence[Chunk], relevant: set[str]) -> tuple[float, float, float]:
    """Citation precision over the case reviews cited, over every source cited, and recall over
    min(relevant, 8), for one answer citing the passages ``cited``."""
    docs = list(dict.fromkeys(c.doc_id for c in cited))
    reviews = list(dict.fromkeys(c.doc_id for c in cited if c.kind == "case_review"))
    return (
        sum(d in relevant for d in reviews) / len(reviews) if reviews else 0.0,
        sum(d in relevant for d in docs) / len(docs) if docs else 0.0,
        len(relevant & set(docs)) / min(len(relevant), RECALL_CAP) if relevant else 0.0,
    )


def synthesis(cb: Casebook, rows: list[dict[str, Any]]) -> dict[str, Any]:
    judge = OverlapJudge(cb.embedder)
    precision, every, recall, themed, verbatim, ms = [], [], [], [], [], []
    purity_pairs: list[tuple[str, str]] = []
    shared = written = kept = fell_back = 0
    for row in rows:
        t = time.perf_counter()
        answer = cb.ask(row["question"])
        ms.append(1000 * (time.perf_counter() - t))
        if answer.refused:
            precision.append(0.0)
            every.append(0.0)
            recall.append(0.0)
            themed.append(0.0)
            continue
        relevant = set(row["relevant"])
        p, p_all, r = cited_scores([c.chunk for c in answer.citations], relevant)
        precision.append(p)
        every.append(p_all)
        recall.append(r)
        themed.append(float(sum(1 for th in answer.themes if th.reviews >= 2) >= 2))
        problems = citation_validity(
            answer.text,
            [Cited(n=c.n, quote=c.quote, evidence=c.chunk.text) for c in answer.citations],
            {c.n: c.chunk.text for c in answer.citations},
        )
        verbatim.append(float(not problems))
        for th in answer.themes:
            for n in th.citations[1:]:
                purity_pairs.append((th.heading, answer.citations[n - 1].quote))
            if th.reviews >= 2:
                shared += 1
                written += th.written_by != "quote"
        if answer.written_by != "extractive":
            kept += answer.written_by != "fallback"
            fell_back += answer.written_by == "fallback"
    verdicts = judge.verdicts(purity_pairs) if purity_pairs else []
    ordered = sorted(ms)
    return {
        "questions": len(rows),
        "citation_precision": round(statistics.mean(precision), 3),
        "precision_all_sources": round(statistics.mean(every), 3),
        "citation_recall": round(statistics.mean(recall), 3),
        "themed_answers": round(statistics.mean(themed), 3),
        "theme_purity": round(sum(verdicts) / len(verdicts), 3) if verdicts else None,
        "verbatim": round(statistics.mean(verbatim), 3) if verbatim else None,
        "ask_p50_ms": round(ordered[len(ordered) // 2], 1),
        **(
            {
                "headlines_written": round(written / shared, 3) if shared else None,
                "model_kept": round(kept / (kept + fell_back), 3) if kept + fell_back else None,
                "model_fallback": round(fell_back / (kept + fell_back), 3) if kept + fell_back else None,
            }
            if cb.llm.backend != "extractive"
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--llm", help="a language model backend (as in settings: llamacpp, openai:MODEL, …)")
    parser.add_argument("--llm-style", help="how the model writes (headlines: the themes' headlines only)")
    parser.add_argument("--limit", type=int, help="only the first N questions of each split (a model is slow)")
    args = parser.parse_args()
    overrides = {k: v for k, v in (("llm", args.llm), ("llm_style", args.llm_style)) if v}
    cb = Casebook(load_settings(**overrides))
    cb.ensure_indexed()
    out = {split: synthesis(cb, in_scope_rows(split)[: args.limit]) for split in ("tuning", "test")}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for split, m in out.items():
        print(f"{split}: " + ", ".join(f"{k} {v}" for k, v in m.items()))


if __name__ == "__main__":
    main()
