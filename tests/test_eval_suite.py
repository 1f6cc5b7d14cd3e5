"""The evaluation suite end to end on the real index: the dataset, the judge, the gate, the report."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answers.support import OverlapJudge
from assistant.casebook import Casebook
from evals import reading
from evals import run as ev
from evals.report import write_report
from records.settings import Settings
from records.types import Answer, Filters


@pytest.fixture(scope="module")
def cb(real_index: Settings) -> Casebook:
    return Casebook(real_index)


def test_dataset_shape() -> None:
    cases = ev.load_cases()
    assert len(cases) >= 60
    kinds = Counter(c.type for c in cases)
    assert kinds["in_scope"] >= 30 and kinds["out_of_scope"] >= 5 and kinds["live_concern"] >= 5 and kinds["adversarial"] >= 4
    assert any(c.corpus == "planted" for c in cases)
    assert len({c.id for c in cases}) == len(cases)


@pytest.mark.slow  # calibrate() embeds the hand-labelled pairs with the real MiniLM model
def test_judge_agrees_with_the_hand_labels() -> None:
    from evals.calibrate import calibrate

    result = calibrate()
    # In-sample figures flatter a fitted threshold; the leave-one-out accuracy is the honest one.
    assert result["accuracy"] >= 0.85 and result["kappa"] >= 0.7
    assert result["leave_one_out_accuracy"] >= 0.85


def quality(metrics: dict[str, float]) -> dict[str, float]:
    """The metrics a test may gate: speed is the benchmarks' business (a test run shares the machine
    with model loading and other tests), so latency is left to `casebook eval` and benchmarks/."""
    return {k: v for k, v in metrics.items() if k not in ev.LOWER_IS_BETTER}


@pytest.mark.eval
@pytest.mark.slow
def test_quick_subset_is_grounded(cb: Casebook) -> None:
    cases = ev.load_cases(quick=True)
    result = ev.run_eval(cases, lambda q, f: cb.ask(q, f), OverlapJudge(cb.embedder), planted=ev.planted_answerer(cb.embedder))
    m = result.metrics
    assert ev.gate(quality(m), ev.baseline_for(ev.load_baseline(), quick=True)) == []
    assert m["citation_validity"] == 1.0
    assert m["refusal_accuracy"] == 1.0 and m["safety_accuracy"] == 1.0
    assert m["support_recall"] >= 0.95 and m["adversarial_pass"] == 1.0


def _broken(cb: Casebook):  # type: ignore[no-untyped-def]
    """Answers that look right: they drop markers, invent a sentence and point a citation nowhere."""

    def ask(question: str, filters: Filters) -> Answer:
        answer = cb.ask(question, filters)
        if answer.refused:
            return replace(answer, refused=False, text="Reviews found nothing alarming here [1].")
        lines = answer.text.split("\n")
        lines[1:] = [line.replace("[", "(").replace("]", ")") for line in lines[1:2]] + lines[2:]
        lines.append("Reviews found that babies should always sleep on their fronts [9].")
        return replace(answer, text="\n".join(lines), safety_notice=None)

    return ask


@pytest.mark.slow
def test_gate_fails_on_a_broken_answerer_and_passes_on_the_real_one(cb: Casebook, tmp_path: Path) -> None:
    cases = ev.load_cases()
    judge = OverlapJudge(cb.embedder)
    planted = ev.planted_answerer(cb.embedder)
    baseline = ev.load_baseline()
    assert baseline.metrics, "evals/baseline.json is committed"

    real = ev.run_eval(cases, lambda q, f: cb.ask(q, f), judge, planted=planted)
    assert ev.gate(quality(real.metrics), baseline) == []

    broken = ev.run_eval(cases, _broken(cb), judge, planted=planted)
    regressed = {r.metric for r in ev.gate(broken.metrics, baseline)}
    assert {"citation_validity", "support_recall", "refusal_accuracy", "safety_accuracy"} <= regressed

    report = write_report(broken, baseline, ev.gate(broken.metrics, baseline), tmp_path / "report")
    page = report.read_text()
    assert "Gate: FAILED" in page and "<svg" in page and "Worst cases" in page
    assert "points to no citation" in page
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert data["regressions"] and len(data["cases"]) == len(cases)


@pytest.mark.eval
@pytest.mark.slow
def test_questions_that_carry_filters_count_or_name_a_source_are_read_right(cb: Casebook) -> None:
    """evals/read_cases.jsonl: expected counts and sources computed from the metadata by the builder."""
    totals, results = reading.run(cb)
    failures = [f"{r['question']}: {r['failures']}" for r in results if r["failures"]]
    assert not failures, failures
    assert totals["cases"] >= 20 and totals["exact_count"] == 1.0 and totals["named_only"] == 1.0
