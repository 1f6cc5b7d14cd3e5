"""``casebook eval``: the evaluation suite as a subcommand of the ``casebook`` command.

It lives here, on top of the surfaces, and registers itself through the ``casebook.commands`` entry
point (pyproject.toml), so the CLI never imports the evaluation suite. Consumes the command line and
settings; runs ``evals.run`` and writes the report; exits 1 on a regression against the baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.answers.support import OverlapJudge
from assistant.surfaces.cli import add_llm, ready_casebook
from assistant.surfaces.feedback import read_feedback
from evals import reading
from evals import run as ev
from evals.baselines import rankers
from evals.generalisation import generalisation, in_scope_rows, summary_line
from evals.relevance import relevance_report
from evals.relevance import summary_lines as relevance_lines
from evals.report import write_report
from evals.synthesis import synthesis
from records.errors import InputError
from records.settings import Settings


def register(sub: Any) -> None:
    """Add ``eval`` to the ``casebook`` command's subparsers."""
    p = sub.add_parser("eval", help="run the evaluation suite and compare with the baseline")
    p.add_argument("--dataset", help="cases JSONL (default evals/datasets/cases.jsonl)")
    p.add_argument("--baseline", help="baseline JSON (default evals/baseline.json)")
    p.add_argument("--report", help="folder for report.html and results.json (default $CASEBOOK_HOME/eval-report)")
    p.add_argument("--update-baseline", action="store_true", help="accept this run as the new baseline")
    p.add_argument("--quick", action="store_true", help="a few cases of every type")
    p.add_argument(
        "--generalisation",
        action="store_true",
        help="also measure retrieval on generalise.jsonl (tuning and sealed test splits) against plain BM25 and dense",
    )
    p.add_argument("--draft-from-feedback", metavar="FILE", help="turn thumbs-down feedback into draft cases in FILE")
    p.add_argument(
        "--synthesis",
        action="store_true",
        help="also measure answers on generalise.jsonl: citation precision and recall, themed share, theme purity",
    )
    p.add_argument(
        "--relevance",
        action="store_true",
        help="also report what answers quote, judged passage by passage (evals/datasets/relevance.jsonl): "
        "on-share, first five, off-share, headings, topic misses",
    )
    p.add_argument(
        "--reading",
        action="store_true",
        help="also check questions that carry filters, count, list or name a source (read_cases.jsonl)",
    )
    add_llm(p)
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.draft_from_feedback:
        drafts = ev.feedback_to_drafts(read_feedback(settings.feedback_path))
        out = Path(args.draft_from_feedback)
        with out.open("a", encoding="utf-8") as fh:
            for d in drafts:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        print(f"{len(drafts)} draft cases from thumbs-down feedback appended to {out}; fill in expected sources and facts")
        return 0
    dataset = Path(args.dataset) if args.dataset else ev.DATASET
    if not dataset.is_file():
        raise InputError(f"dataset {dataset} does not exist; expected a JSONL file of cases (see evals/datasets/cases.jsonl)")
    cb = ready_casebook(settings)
    judge = OverlapJudge(cb.embedder)
    cases = ev.load_cases(dataset, quick=args.quick)
    planted = ev.planted_answerer(cb.embedder, settings) if any(c.corpus == "planted" for c in cases) else None
    result = ev.run_eval(cases, lambda q, f: cb.ask(q, f), judge, planted=planted, dataset=str(dataset))
    baseline_path = Path(args.baseline) if args.baseline else ev.BASELINE
    if args.update_baseline:
        if args.quick:
            raise InputError("--update-baseline needs the full run; drop --quick")
        ev.write_baseline(result, baseline_path)
        print(f"baseline written to {baseline_path}")
    baseline = ev.baseline_for(ev.load_baseline(baseline_path), quick=args.quick)
    regressions = [] if args.update_baseline else ev.gate(result.metrics, baseline)
    report = write_report(result, baseline, regressions, Path(args.report or settings.home / "eval-report"))
    width = max(len(k) for k in result.metrics)
    for name, value in result.metrics.items():
        base = baseline.metrics.get(name)
        print(f"{name:{width}}  {value:>8g}" + (f"   (baseline {base:g})" if base is not None else ""))
    print(f"report: {report}")
    if args.reading:
        totals, read_results = reading.run(cb)
        for case in read_results:
            if case["failures"]:
                print(f"reading FAIL {case['question']}: " + "; ".join(case["failures"]))
        print("reading: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    if args.synthesis:
        for split in ("tuning", "test"):
            m = synthesis(cb, in_scope_rows(split))
            print(f"synthesis, {split} split: " + ", ".join(f"{k} {v}" for k, v in m.items()))
    if args.generalisation:
        for split, g in generalisation(cb, rankers(cb.retriever)).items():
            print(summary_line(split, g))
    if args.relevance:
        for line in relevance_lines(relevance_report(cb)):
            print(line)
    for r in regressions:
        print(f"REGRESSION  {r}", file=sys.stderr)
    return 1 if regressions else 0
