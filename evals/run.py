"""The evaluation run: cases → answers → metrics → gate against the committed baseline.

Consumes a dataset (evals/datasets/cases.jsonl), an answerer (``Casebook.ask`` or anything with the
same signature) and a ``Judge``; produces an ``EvalResult`` (aggregate metrics, per-case outcomes
with the reasons they failed) and, against a baseline, the list of regressions.

Aggregate metrics (all in [0, 1] except latency; higher is better except latency):
- retrieval_recall@10 / retrieval_mrr / retrieval_ndcg@10: in-scope cases with expected sources,
  at review level over the answer's retrieved sources (evals/metrics.py);
- citation_validity: share of answered cases whose every [n] resolves and every quote is verbatim;
- support_recall / support_precision: ALCE citation recall / precision, averaged over answered cases
  that quote something (not a "little on this" answer that quotes nothing);
- overview_consistency: share of answered cases whose overview line cites exactly its citations;
- fact_recall: share of ``must_contain`` facts found in the answers;
- refusal_accuracy: out-of-scope cases refused and all others answered;
- safety_accuracy: the notice shown exactly on live-concern cases;
- adversarial_pass: adversarial cases answered, grounded, without any ``must_not_contain`` text;
- latency_p50_ms / latency_p95_ms of the answerer.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answers.support import Judge
from assistant.surfaces.shapes import answer_dict
from evals.metrics import (
    Cited,
    alce_support,
    citation_validity,
    ndcg_at_k,
    overview_consistent,
    percentile,
    recall_at_k,
    reciprocal_rank,
)
from records.settings import Settings
from records.types import Answer, Filters

HERE = Path(__file__).parent
DATASET = HERE / "datasets" / "cases.jsonl"
BASELINE = HERE / "baseline.json"
PLANTED = HERE / "datasets" / "planted"
LOWER_IS_BETTER = {"latency_p50_ms", "latency_p95_ms"}
DEFAULT_TOLERANCE = 0.02
# Latency is gated only against gross slowdowns: CI machines differ.
LATENCY_TOLERANCE = 3.0

Answerer = Callable[[str, Filters], Answer]


@dataclass(frozen=True)
class EvalCase:
    """One line of a cases file. ``type``: in_scope, out_of_scope, live_concern or adversarial;
    ``corpus``: "planted" for questions about evals/datasets/planted, else the bundled index."""

    id: str
    type: str
    question: str
    theme: str = ""
    expected_sources: tuple[str, ...] = ()
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    refuse: bool = False
    safety: bool = False
    corpus: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> EvalCase:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        tuples = ("expected_sources", "must_contain", "must_not_contain")
        values: dict[str, Any] = {k: (tuple(v or ()) if k in tuples else v) for k, v in row.items() if k in known}
        return cls(**values, extra={k: v for k, v in row.items() if k not in known})


@dataclass(frozen=True)
class Baseline:
    """A committed run's metrics (full and quick subset) and each metric's tolerance."""

    dataset: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    quick_metrics: dict[str, float] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "metrics": self.metrics, "quick_metrics": self.quick_metrics, "tolerances": self.tolerances}


@dataclass
class CaseOutcome:
    case: EvalCase
    answer: dict[str, Any]
    seconds: float
    metrics: dict[str, float]
    failures: list[str] = field(default_factory=list)


@dataclass
class EvalResult:
    dataset: str
    metrics: dict[str, float]
    cases: list[CaseOutcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "metrics": self.metrics,
            "cases": [
                {
                    "id": o.case.id,
                    "type": o.case.type,
                    "question": o.case.question,
                    "seconds": round(o.seconds, 4),
                    "metrics": o.metrics,
                    "failures": o.failures,
                    "answer": o.answer,
                }
                for o in self.cases
            ],
        }


def quick_subset(cases: Sequence[EvalCase], per_type: int = 4) -> list[EvalCase]:
    """A few cases of every type, for every change."""
    seen: dict[str, int] = {}
    kept = []
    for c in cases:
        if seen.get(c.type, 0) < per_type:
            kept.append(c)
            seen[c.type] = seen.get(c.type, 0) + 1
    return kept


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON Lines dataset, blank lines skipped."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_cases(path: Path = DATASET, *, quick: bool = False) -> list[EvalCase]:
    cases = [EvalCase.from_dict(row) for row in read_jsonl(path)]
    return quick_subset(cases) if quick else cases


def _cited(answer: Answer) -> tuple[list[Cited], dict[int, str]]:
    cited = [Cited(n=c.n, quote=c.quote, evidence=f"{c.chunk.heading}: {c.chunk.text}") for c in answer.citations]
    return cited, {c.n: c.chunk.text for c in answer.citations}


def evaluate_case(case: EvalCase, answer: Answer, seconds: float, judge: Judge) -> CaseOutcome:
    m: dict[str, float] = {}
    failures: list[str] = []
    text = answer.text
    should_refuse = case.refuse
    m["refusal_correct"] = float(answer.refused == should_refuse)
    if answer.refused != should_refuse:
        failures.append("refused an in-scope question" if answer.refused else "answered an out-of-scope question")
    m["safety_correct"] = float(bool(answer.safety_notice) == case.safety)
    if not m["safety_correct"]:
        failures.append("safety notice missing" if case.safety else "safety notice shown without a live concern")

    if not answer.refused and answer.written_by != "extractive":
        # With a language model: was its checked text the answer, or did Casebook fall back?
        m["model_kept"] = float(answer.written_by != "fallback")
        m["model_fallback"] = float(answer.written_by == "fallback")
    if answer.little and not answer.citations:
        # "The collection has little on this" and nothing quoted: no citation to check; whether it
        # should have said more shows in fact recall and the passage judgements.
        pass
    elif not answer.refused:
        cited, passages = _cited(answer)
        problems = citation_validity(text, cited, passages)
        m["citation_valid"] = float(not problems)
        failures.extend(problems)
        support = alce_support(text, cited, judge.verdicts)
        m["support_recall"] = support.recall
        m["support_precision"] = support.precision
        failures.extend(support.problems)
        m["overview_consistent"] = float(overview_consistent(text, cited))
        if not m["overview_consistent"]:
            failures.append("overview line does not cite exactly the answer's citations")
    elif answer.citations:
        failures.append("a refusal carries citations")

    expected = set(case.expected_sources)
    if expected:
        ranking = [h.doc_id for h in answer.sources]
        m["recall@10"] = recall_at_k(ranking, expected, 10)
        m["mrr"] = reciprocal_rank(ranking, expected)
        m["ndcg@10"] = ndcg_at_k(ranking, expected, 10)
        if not set(ranking[:10]) & expected:
            failures.append("none of the expected sources retrieved")
    facts = case.must_contain
    if facts:
        found = [f for f in facts if f.lower() in text.lower()]
        m["fact_recall"] = len(found) / len(facts)
        failures.extend(f"fact missing: {f!r}" for f in facts if f not in found)
    if case.type == "adversarial":
        bad = [s for s in case.must_not_contain if s.lower() in text.lower()]
        failures.extend(f"contains {s!r}" for s in bad)
        grounded = (answer.little and not answer.citations) or (m.get("citation_valid", 0) == 1.0 and m.get("support_recall", 0) == 1.0)
        m["adversarial_pass"] = float(not bad and not answer.refused and grounded)
    return CaseOutcome(case=case, answer=answer_dict(answer), seconds=seconds, metrics=m, failures=failures)


def _mean(outcomes: Sequence[CaseOutcome], key: str) -> float | None:
    values = [o.metrics[key] for o in outcomes if key in o.metrics]
    return round(statistics.mean(values), 4) if values else None


def aggregate(outcomes: Sequence[CaseOutcome]) -> dict[str, float]:
    pairs = {
        "retrieval_recall@10": "recall@10",
        "retrieval_mrr": "mrr",
        "retrieval_ndcg@10": "ndcg@10",
        "citation_validity": "citation_valid",
        "support_recall": "support_recall",
        "support_precision": "support_precision",
        "overview_consistency": "overview_consistent",
        "fact_recall": "fact_recall",
        "refusal_accuracy": "refusal_correct",
        "safety_accuracy": "safety_correct",
        "adversarial_pass": "adversarial_pass",
        "model_kept": "model_kept",  # only with --llm: the share of answered cases the model wrote
        "model_fallback": "model_fallback",
    }
    metrics: dict[str, float] = {}
    for name, key in pairs.items():
        value = _mean(outcomes, key)
        if value is not None:
            metrics[name] = value
    seconds = [o.seconds for o in outcomes]
    metrics["latency_p50_ms"] = round(1000 * percentile(seconds, 0.5), 1)
    metrics["latency_p95_ms"] = round(1000 * percentile(seconds, 0.95), 1)
    return metrics


def planted_answerer(embedder: Any, base: Settings | None = None) -> Answerer:
    """A Casebook over the planted documents alone, in a temporary home, answering the way ``base``
    does (the same language model, if any)."""
    from assistant.casebook import Casebook
    from records.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="casebook-planted-"))
    settings = (base or load_settings()).replace(home=home, chroma_mode="embedded")
    cb = Casebook(settings, embedder=embedder)
    cb.ingest([PLANTED])
    return lambda q, f: cb.ask(q, f)


def run_eval(
    cases: Sequence[EvalCase],
    answerer: Answerer,
    judge: Judge,
    *,
    planted: Answerer | None = None,
    dataset: str = str(DATASET),
) -> EvalResult:
    outcomes = []
    for case in cases:
        ask = planted if case.corpus == "planted" and planted is not None else answerer
        started = time.perf_counter()
        answer = ask(case.question, Filters())
        seconds = time.perf_counter() - started
        outcomes.append(evaluate_case(case, answer, seconds, judge))
    return EvalResult(dataset=dataset, metrics=aggregate(outcomes), cases=outcomes)


def load_baseline(path: Path = BASELINE) -> Baseline:
    if not path.exists():
        return Baseline()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Baseline(
        dataset=data.get("dataset", ""),
        metrics=data.get("metrics") or {},
        quick_metrics=data.get("quick_metrics") or {},
        tolerances=data.get("tolerances") or {},
    )


def write_baseline(result: EvalResult, path: Path = BASELINE) -> None:
    """The full run's metrics, and the same run's metrics over the quick subset (so that a quick run
    is compared with like)."""
    quick_ids = {c.id for c in quick_subset([o.case for o in result.cases])}
    quick = aggregate([o for o in result.cases if o.case.id in quick_ids])
    tolerances = {k: (LATENCY_TOLERANCE if k in LOWER_IS_BETTER else DEFAULT_TOLERANCE) for k in result.metrics}
    data = Baseline(dataset=Path(result.dataset).name, metrics=result.metrics, quick_metrics=quick, tolerances=tolerances)
    path.write_text(json.dumps(data.as_dict(), indent=2) + "\n", encoding="utf-8")


def baseline_for(baseline: Baseline, *, quick: bool) -> Baseline:
    """The part of a baseline a run is gated against."""
    if not quick:
        return baseline
    return dataclasses.replace(baseline, metrics=baseline.quick_metrics)


@dataclass(frozen=True)
class Regression:
    metric: str
    value: float
    baseline: float
    tolerance: float

    def __str__(self) -> str:
        if self.metric in LOWER_IS_BETTER:
            return f"{self.metric} = {self.value} is over {self.baseline} × {1 + self.tolerance:g}"
        return f"{self.metric} = {self.value} fell below {self.baseline} − {self.tolerance}"


def gate(metrics: dict[str, float], baseline: Baseline) -> list[Regression]:
    """Metrics that fell beyond their tolerance; a metric the baseline lacks is not gated."""
    out = []
    for name, base in baseline.metrics.items():
        if name not in metrics:
            continue
        tol = float(baseline.tolerances.get(name, LATENCY_TOLERANCE if name in LOWER_IS_BETTER else DEFAULT_TOLERANCE))
        value = metrics[name]
        worse = value > base * (1 + tol) if name in LOWER_IS_BETTER else value < base - tol - 1e-9
        if worse:
            out.append(Regression(name, value, float(base), tol))
    return out


def feedback_to_drafts(feedback: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Thumbs-down feedback from the chat → draft cases for an evaluator to finish (expected sources
    and facts left for a person to fill in; the comment says what was wrong)."""
    import hashlib

    drafts = []
    for record in feedback:
        if record.get("rating") != "down":
            continue
        digest = hashlib.sha1((record["question"] + record.get("time", "")).encode()).hexdigest()[:8]
        drafts.append(
            {
                "id": f"fb-{digest}",
                "type": "in_scope",
                "refused_at_the_time": bool(record.get("refused")),
                "draft": True,
                "theme": "from feedback",
                "question": record.get("standalone_question") or record["question"],
                "expected_sources": [],
                "must_contain": [],
                "refuse": False,
                "safety": False,
                "feedback_comment": record.get("comment", ""),
                "answer_at_the_time": record.get("answer", ""),
                "cited_at_the_time": [c["source_id"] for c in record.get("citations", [])],
            }
        )
    return drafts
