"""Generative answers with a language model on 2 cores: time to the first streamed text and in total.

    python -m benchmarks.generate [--llm llamacpp] [--questions 10] [--json]

Asks the first ``--questions`` in-scope questions of evals/datasets/cases.jsonl with the given backend
(default: the packaged SmolLM2-135M through llama.cpp), streaming, and reports time to first token
(the first sentence the model streams) and total time, p50 and p95, with how many answers the guard
kept as the model's (not the extractive fallback). The model is loaded and warmed before timing.
"""

from __future__ import annotations

import argparse
import json
import time

from assistant.casebook import Casebook
from benchmarks.timing import percentile
from evals.run import load_cases
from records.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llm", default="llamacpp")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cb = Casebook(load_settings(llm=args.llm))
    cb.ensure_indexed()
    questions = [c.question for c in load_cases() if c.type == "in_scope"][: args.questions]
    cb.ask(questions[0], on_token=lambda _: None)  # load and warm the model
    first_ms, total_ms, kept = [], [], 0
    for q in questions:
        started = time.perf_counter()
        first: list[float] = []

        def seen(_: str, first: list[float] = first) -> None:
            if not first:
                first.append(time.perf_counter())

        answer = cb.ask(q, on_token=seen)
        total_ms.append(1000 * (time.perf_counter() - started))
        first_ms.append(1000 * ((first[0] if first else time.perf_counter()) - started))
        kept += answer.written_by not in ("extractive", "fallback")
    out = {
        "llm": cb.llm.label,
        "questions": len(questions),
        "model_kept": kept,
        "first_token_p50_ms": round(percentile(first_ms, 0.5), 1),
        "first_token_p95_ms": round(percentile(first_ms, 0.95), 1),
        "total_p50_ms": round(percentile(total_ms, 0.5), 1),
        "total_p95_ms": round(percentile(total_ms, 0.95), 1),
    }
    print(json.dumps(out, indent=2) if args.json else ", ".join(f"{k} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
