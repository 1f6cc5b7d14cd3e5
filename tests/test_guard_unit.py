"""assistant/answers/guard.py with a fake judge that implements the ``Judge`` protocol (tests/helpers/fakes.py):
markers out of range are dropped, unsupported sentences removed, too little left means None, and
every kept citation quotes its passage verbatim."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answers.guard import guard, split_sentences
from assistant.answers.support import Judge
from tests.helpers.build import passage
from tests.helpers.fakes import CoverageJudge

SLEEP = passage(
    "Learning includes: some parents have difficulty following advice; "
    "co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy.",
    doc="jason",
    heading="2021 – Wakefield – Jason",
    start=100,
)
FATHERS = passage(
    "Recommendations include: develop a plan to better engage fathers; review safer sleeping risk assessments.",
    doc="daniel",
    heading="2025 – Warrington – Daniel",
    section="recommendations",
    start=900,
)
SOURCES = [SLEEP, FATHERS]
ALCOHOL = "Co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy"
ENGAGE = "Reviews recommend a plan to better engage fathers"


class Always:
    """A judge with one answer for everything."""

    name = "always"

    def __init__(self, verdict: bool) -> None:
        self.verdict = verdict

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [1.0 if self.verdict else 0.0 for _ in pairs]

    def verdicts(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return [self.verdict for _ in pairs]

    def supports(self, statement: str, evidence: str) -> bool:
        return self.verdict


def test_the_fakes_implement_the_protocol() -> None:
    judges: list[Judge] = [CoverageJudge(), Always(True)]
    assert [j.name for j in judges] == ["coverage", "always"]


def test_a_well_cited_draft_is_kept_with_verbatim_quotes() -> None:
    g = guard(f"{ALCOHOL} [1]. {ENGAGE} [2].", SOURCES, CoverageJudge())
    assert g is not None
    assert (g.report.kept, g.report.removed, g.report.dropped_markers, g.report.attached) == (2, 0, 0, 0)
    assert g.text == f"{ALCOHOL} [1].\n{ENGAGE} [2]."
    assert [c.chunk.doc_id for c in g.citations] == ["jason", "daniel"]
    for c in g.citations:
        offset = c.quote_start - c.chunk.start
        assert c.chunk.text[offset : offset + len(c.quote)] == c.quote
    assert g.citations[0].quote == (
        "co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy"
    )
    assert g.citations[1].quote == "develop a plan to better engage fathers"


def test_out_of_range_markers_are_dropped_and_markers_renumbered() -> None:
    g = guard(f"{ENGAGE} [7][2].", SOURCES, CoverageJudge())
    assert g is not None and g.report.dropped_markers == 1
    assert g.text == f"{ENGAGE} [1]."
    assert [c.chunk.doc_id for c in g.citations] == ["daniel"]


def test_markers_are_numbered_in_order_of_first_use() -> None:
    g = guard(f"{ENGAGE} [2]. {ALCOHOL} [1]. Some parents have difficulty following advice [1].", SOURCES, CoverageJudge())
    assert g is not None
    assert g.text.split("\n") == [f"{ENGAGE} [1].", f"{ALCOHOL} [2].", "Some parents have difficulty following advice [2]."]
    assert [(c.n, c.chunk.doc_id) for c in g.citations] == [(1, "daniel"), (2, "jason")]


def test_a_sentence_without_a_marker_gets_the_source_that_supports_it() -> None:
    g = guard("Some parents have difficulty following advice.", SOURCES, CoverageJudge())
    assert g is not None and g.report.attached == 1
    assert g.text == "Some parents have difficulty following advice [1]."
    assert g.citations[0].quote == "some parents have difficulty following advice"


def test_unsupported_sentences_are_removed() -> None:
    draft = f"{ALCOHOL} [1]. {ENGAGE} [2]. In 2019 the government banned all cots made before 1990 [1]."
    g = guard(draft, SOURCES, CoverageJudge())
    assert g is not None and g.report.removed == 1 and g.report.kept == 2
    assert "1990" not in g.text and len(g.text.split("\n")) == 2
    assert g.report.reasons == ("its sources do not support: 'In 2019 the government banned all cots made before 1990.'",)


def test_a_citation_the_sentence_does_not_need_is_removed() -> None:
    g = guard(f"{ENGAGE} [1][2].", SOURCES, CoverageJudge())
    assert g is not None
    assert g.text == f"{ENGAGE} [1]." and [c.chunk.doc_id for c in g.citations] == ["daniel"]


def test_citations_supported_only_together_are_all_kept() -> None:
    g = guard("Parents had difficulty following advice and reviews recommend a plan to engage fathers [1][2].", SOURCES, CoverageJudge(0.6))
    assert g is not None
    assert g.text.endswith("[1][2].") and {c.chunk.doc_id for c in g.citations} == {"jason", "daniel"}


def test_too_little_left_means_none() -> None:
    assert guard("Football is popular in Wales [1]. The weather was cold [2]. Call 0900 123 456.", SOURCES, CoverageJudge()) is None
    assert guard(f"{ALCOHOL} [1]. Football is popular [1]. The weather was cold [2].", SOURCES, CoverageJudge()) is None, "1 of 3"
    assert guard("", SOURCES, CoverageJudge()) is None
    assert guard("[1] [2]", SOURCES, CoverageJudge()) is None, "markers alone are no sentence"


def test_half_kept_is_enough() -> None:
    g = guard(f"{ALCOHOL} [1]. Football is popular in Wales [2].", SOURCES, CoverageJudge())
    assert g is not None and (g.report.kept, g.report.removed) == (1, 1)


def test_the_judge_decides() -> None:
    draft = f"{ALCOHOL} [1]. {ENGAGE} [2]."
    assert guard(draft, SOURCES, Always(False)) is None
    accepted = guard("The moon is made of cheese [1].", SOURCES, Always(True))
    assert accepted is not None and accepted.text == "The moon is made of cheese [1]."


def test_the_judge_sees_the_heading_with_the_passage() -> None:
    judge = CoverageJudge()
    guard(f"{ENGAGE} [2].", SOURCES, judge)
    assert (f"{ENGAGE}.", f"{FATHERS.heading}: {FATHERS.text}") in judge.asked


def test_no_sources_means_nothing_can_be_kept() -> None:
    assert guard(f"{ALCOHOL} [1].", [], CoverageJudge()) is None


def test_sentence_splitting_keeps_markers_with_their_sentence() -> None:
    assert split_sentences("One thing [1]. Another [2][3].\nThird") == ["One thing [1].", "Another [2][3].", "Third"]
    assert split_sentences("Is it? Yes! Done.") == ["Is it?", "Yes!", "Done."]
    assert split_sentences("") == []
