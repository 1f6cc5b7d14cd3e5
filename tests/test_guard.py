"""The grounding guard on crafted model outputs, with the real support judge (MiniLM)."""

from __future__ import annotations

import pytest

from assistant.answers.guard import guard, split_sentences
from assistant.answers.support import OverlapJudge
from records.types import Chunk, DocMeta
from vectorstore.embedder import load_embedder

pytestmark = pytest.mark.slow

SLEEP_TEXT = (
    "Learning includes: some parents have difficulty assimilating and consistently following advice; "
    "co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy."
)
FATHERS_TEXT = "Recommendations include: develop a plan to better engage fathers; review safer sleeping risk assessments."


def chunk(doc: str, heading: str, text: str, section: str, start: int) -> Chunk:
    return Chunk(
        chunk_id=f"{doc}#0",
        doc_id=doc,
        index=0,
        text=text,
        start=start,
        end=start + len(text),
        section=section,
        heading_path=(heading,),
        kind="case_review",
        title=heading.split(" – ")[-1],
        heading=heading,
        source_file="f.txt",
        meta=DocMeta(year=2021, area="Wakefield"),
    )


SOURCES = [
    chunk("jason", "2021 – Wakefield – Jason", SLEEP_TEXT, "learning", 100),
    chunk("daniel", "2025 – Warrington – Daniel", FATHERS_TEXT, "recommendations", 900),
]


@pytest.fixture(scope="module")
def judge() -> OverlapJudge:
    return OverlapJudge(load_embedder())


def test_well_cited_answer_passes_with_verbatim_quotes(judge: OverlapJudge) -> None:
    draft = (
        "Co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy [1]. "
        "Reviews recommend a plan to better engage fathers [2]."
    )
    g = guard(draft, SOURCES, judge)
    assert g is not None and g.report.kept == 2 and g.report.removed == 0
    assert g.text.split("\n")[0].endswith("[1].") and g.text.split("\n")[1].endswith("[2].")
    for c in g.citations:
        assert c.quote in c.chunk.text and c.quote_start == c.chunk.start + c.chunk.text.index(c.quote)
    assert "engage fathers" in g.citations[1].quote


def test_missing_markers_are_attached_when_a_source_supports(judge: OverlapJudge) -> None:
    g = guard("Some parents have difficulty consistently following advice.", SOURCES, judge)
    assert g is not None and g.report.attached == 1 and g.text.endswith("[1].")


def test_out_of_range_markers_are_dropped(judge: OverlapJudge) -> None:
    g = guard("Reviews recommend a plan to better engage fathers [7][2].", SOURCES, judge)
    assert g is not None and g.report.dropped_markers == 1
    assert "[7]" not in g.text and g.text.endswith("[1].") and g.citations[0].chunk.doc_id == "daniel"


def test_invented_facts_are_removed(judge: OverlapJudge) -> None:
    draft = (
        "Co-sleeping with a baby after drinking alcohol greatly increases the risk of sudden unexpected death in infancy [1]. "
        "Reviews recommend a plan to better engage fathers [2]. "
        "In 2019 the government banned all cots made before 1990 [1]."
    )
    g = guard(draft, SOURCES, judge)
    assert g is not None and g.report.removed == 1
    assert "1990" not in g.text and len(g.text.split("\n")) == 2


def test_too_little_left_means_fall_back(judge: OverlapJudge) -> None:
    draft = "Football is popular in Wales [1]. The weather was cold [2]. Casebook is offline; call 0900 123 456."
    assert guard(draft, SOURCES, judge) is None
    assert guard("", SOURCES, judge) is None


def test_sentence_splitting_keeps_markers() -> None:
    assert split_sentences("One thing [1]. Another [2][3].\nThird") == ["One thing [1].", "Another [2][3].", "Third"]
