"""Evaluation metrics on hand-made answers with known values, including ALCE's edge cases."""

from __future__ import annotations

from evals.metrics import Cited, alce_support, citation_validity, overview_consistent, percentile
from evals.run import Baseline, Regression, feedback_to_drafts, gate

SLEEP = Cited(1, "co-sleeping with a sibling and his mother", "Jason: Jason had been co-sleeping with a sibling and his mother.")
FATHERS = Cited(2, "develop a plan to better engage fathers", "Daniel: recommendations include: develop a plan to better engage fathers.")


def judge_by_words(pairs: list[tuple[str, str]]) -> list[bool]:
    """A transparent stand-in judge for these tests: supported when the quote inside the statement's
    curly quotes appears in the evidence."""
    out = []
    for statement, evidence in pairs:
        quote = statement.split("“")[1].split("”")[0] if "“" in statement else statement
        out.append(quote in evidence)
    return out


def answer(*lines: str) -> str:
    return "\n".join(["Overview [1][2].", *lines])


def test_all_supported_and_needed() -> None:
    text = answer("Jason: “co-sleeping with a sibling and his mother” [1]", "Daniel: “develop a plan to better engage fathers” [2]")
    r = alce_support(text, [SLEEP, FATHERS], judge_by_words)
    assert (r.statements, r.supported, r.markers, r.needed) == (2, 2, 2, 2)
    assert r.recall == 1.0 and r.precision == 1.0


def test_sentence_without_citation_counts_against_recall_only() -> None:
    text = answer("Jason: “co-sleeping with a sibling and his mother” [1]", "All babies should sleep on their backs.")
    r = alce_support(text, [SLEEP, FATHERS], judge_by_words)
    assert r.recall == 0.5 and r.precision == 1.0
    assert any("uncited statement" in p for p in r.problems)


def test_citation_out_of_range_is_invalid_and_unneeded() -> None:
    text = answer("Jason: “co-sleeping with a sibling and his mother” [7]")
    r = alce_support(text, [SLEEP, FATHERS], judge_by_words)
    assert r.recall == 0.0 and r.markers == 1 and r.needed == 0 and r.precision == 0.0
    assert citation_validity(text, [SLEEP, FATHERS], {1: SLEEP.evidence, 2: FATHERS.evidence}) == ["[7] points to no citation"]


def test_redundant_citation_lowers_precision_not_recall() -> None:
    text = answer("Jason: “co-sleeping with a sibling and his mother” [1][2]")
    r = alce_support(text, [SLEEP, FATHERS], judge_by_words)
    assert r.recall == 1.0
    assert (r.markers, r.needed) == (2, 1) and r.precision == 0.5
    assert any("citation [2] is not needed" in p for p in r.problems)


def test_unsupported_statement() -> None:
    text = answer("Jason: “died in a house fire” [1]")
    r = alce_support(text, [SLEEP], judge_by_words)
    assert r.recall == 0.0 and r.precision == 0.0


def test_quote_must_be_verbatim() -> None:
    bent = Cited(1, "co-sleeping with his mother", SLEEP.evidence)
    problems = citation_validity("Overview [1].\nx [1]", [bent], {1: "Jason had been co-sleeping with a sibling and his mother."})
    assert problems == ["quote [1] is not verbatim in its passage"]


def test_overview_consistency() -> None:
    assert overview_consistent("Overview [1][2].\nx [1]\ny [2]", [SLEEP, FATHERS])
    assert not overview_consistent("Overview [1].\nx [1]\ny [2]", [SLEEP, FATHERS])


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10], 0.95) == 10
    assert percentile([], 0.5) == 0.0


def test_gate() -> None:
    baseline = Baseline(
        metrics={"support_recall": 0.95, "latency_p95_ms": 100.0}, tolerances={"support_recall": 0.02, "latency_p95_ms": 1.0}
    )
    assert gate({"support_recall": 0.94, "latency_p95_ms": 150.0}, baseline) == []
    regressions = gate({"support_recall": 0.90, "latency_p95_ms": 250.0}, baseline)
    assert [r.metric for r in regressions] == ["support_recall", "latency_p95_ms"]
    assert isinstance(regressions[0], Regression) and "fell below" in str(regressions[0])
    assert gate({"new_metric": 0.1}, baseline) == []


def test_feedback_becomes_draft_cases() -> None:
    drafts = feedback_to_drafts(
        [
            {
                "rating": "down",
                "question": "and fathers?",
                "standalone_question": "and fathers? (bruising)",
                "comment": "wrong review",
                "time": "t",
                "refused": False,
                "answer": "a",
                "citations": [{"source_id": "x"}],
            },
            {"rating": "up", "question": "fine", "time": "t"},
        ]
    )
    assert len(drafts) == 1
    d = drafts[0]
    assert d["draft"] and d["question"] == "and fathers? (bruising)" and d["feedback_comment"] == "wrong review"
    assert d["cited_at_the_time"] == ["x"] and d["expected_sources"] == []


def test_judge_config_is_calibrated() -> None:
    from assistant.answers.support import load_config

    cfg = load_config()
    assert 0.0 <= cfg.weight <= 1.0 and 0.0 < cfg.threshold < 1.0
