"""A scraped page's link markup never reaches a quote: ingest keeps the words a link showed, so the
stored text (which every quote and offset refers to) reads as the page did, with no dead "(#)" link;
a line that is only a link is still dropped as navigation; and relevance judgements made on a passage
with its markup still count for the same words without it."""

from __future__ import annotations

import pytest

from evals.relevance import Judged, Judgements
from ingest.bundled import parse_collection
from ingest.sources import normalise
from ingest.web import unlink

PANEL = (
    "The Child Safeguarding Practice Review Panel (the Panel) have published reports on safeguarding children under one "
    "year old from non-accidental injury and bruising in non-mobile infants that highlight this vulnerability"
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("reports on [bruising in non-mobile infants](#) that", "reports on bruising in non-mobile infants that"),
        ("the [NSPCC library](http://library.nspcc.org.uk/x?a=1&b=2) and [repo](/repository).", "the NSPCC library and repo."),
        ("see [the guide](https://example.org/page_(guide)) now", "see the guide now"),
        ("two [a](#) [b](#x) links", "two a b links"),
    ],
)
def test_a_link_inside_a_line_becomes_its_words(raw: str, clean: str) -> None:
    assert unlink(raw) == clean
    assert normalise(raw) == clean


@pytest.mark.parametrize(
    "kept",
    [
        "➤ [Read more about unseen men: learning from case reviews](#)",  # a navigation line: cleaning drops it whole
        "reviews [1] (2019) and [2] found",  # citation-like brackets with a space before the parenthesis
        "an image ![a chart](chart.png) stays",
        "[text](a target with spaces) stays",
        "no links at all",
    ],
)
def test_what_is_not_an_inline_link_is_left_alone(kept: str) -> None:
    assert unlink(kept) == kept


def test_the_bundled_briefing_is_stored_without_link_markup() -> None:
    briefing = next(d for d in parse_collection().documents if d.title == "Infants: learning from case reviews")
    kept = "\n".join(briefing.source_text[s.start : s.end] for s in briefing.sections)
    assert PANEL in kept
    assert "](" not in kept
    # The "➤ [Read more …](#)" lines are still navigation, cut out of every section.
    assert "Read more about unseen men" not in kept
    assert "Read the CASPAR briefing summary" not in kept


def test_no_document_of_the_collection_keeps_an_inline_link() -> None:
    for doc in parse_collection().documents:
        for s in doc.sections:
            assert "](" not in doc.source_text[s.start : s.end], (doc.doc_id, s.heading_path)


def test_a_judgement_of_a_passage_with_markup_counts_for_its_words() -> None:
    marked = PANEL.replace(
        "safeguarding children under one year old from non-accidental injury",
        "[safeguarding children under one year old from non-accidental injury](#)",
    ).replace("bruising in non-mobile infants", "[bruising in non-mobile infants](#)")
    judged = Judgements()
    judged[("g-039", marked)] = Judged("g-039", "test", "q", marked, (("on", "judge1"),))
    for passage in (PANEL, marked):
        assert ("g-039", passage) in judged
        assert judged[("g-039", passage)].label == "on"
        assert judged.get(("g-039", passage)) is not None
    assert ("g-039", PANEL + " and more") not in judged
    assert ("g-040", PANEL) not in judged
