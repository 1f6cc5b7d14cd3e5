"""assistant/answers/themes.py on hand-built reviews, with an embedding whose axes are topics, so what is "close
in meaning" is decided by the test: themes grouped across reviews, counted, ordered and cited."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from functools import partial

from assistant.answers.relevance import load_model
from assistant.answers.themes import ThemeSettings, drawn_on, themed_answer
from assistant.surfaces.render import answer_html, answer_markdown, theme_layout
from records.types import Answer, Coverage, Point, ReviewHit
from tests.helpers.build import passage, source
from tests.helpers.corpus import COSINE_RELEVANCE

TOPICS = ("bruis", "father", "sleep", "school")
# Relevance by the fake embedding's cosine (the packaged model was fitted to MiniLM's).
themed = partial(themed_answer, model=load_model(COSINE_RELEVANCE))
TWO = ThemeSettings(min_sources=2)  # small hand-built cases: two relevant sources make a themed answer
COVERAGE = Coverage(reviews=7, years="2019–2023", how="reviews carrying the NSPCC labels the question names: bruises")


def counted(quoted: Collection[str]) -> Coverage:
    """The router's coverage count, here the same whatever the answer quotes."""
    return COVERAGE


def embed(texts: Sequence[str]) -> list[list[float]]:
    """One axis per topic word stem found in the text, plus a small constant axis."""
    out = []
    for t in texts:
        low = t.lower()
        out.append([1.0 if w in low else 0.0 for w in TOPICS] + [0.2])
    return out


def review(doc: str, year: int, learning: str, recommendations: str = "", summary: str = "") -> ReviewHit:
    heading = f"{year} – Area {doc} – Child {doc.upper()}"
    chunks = [passage(f"Learning includes: {learning}.", doc=doc, index=1, heading=heading, year=year)]
    if recommendations:
        chunks.append(
            passage(f"Recommendations include: {recommendations}.", doc=doc, index=2, section="recommendations", heading=heading, year=year)
        )
    if summary:
        chunks.insert(0, passage(summary, doc=doc, index=0, section="summary", heading=heading, year=year))
    return source(*chunks)


HITS = [
    review("a", 2019, "bruising in a baby who cannot move was not referred", "share the bruising protocol with health visitors"),
    review("b", 2021, "practitioners did not see bruising as a sign of abuse", summary="Bruising was seen on the baby at home."),
    review("c", 2023, "a small bruise was explained away by the parents", "audit how the bruising protocol is used"),
    review("d", 2020, "the father was never seen by professionals"),
    review("e", 2022, "children missing from school were not followed up"),
]


def test_themes_group_sources_that_make_the_same_point_and_count_them() -> None:
    answer = themed("what did reviews say about bruising?", HITS, counted, embed)
    assert answer is not None
    findings = [t for t in answer.themes if t.kind == "finding"]
    recs = [t for t in answer.themes if t.kind == "recommendation"]
    assert [(t.reviews, t.years) for t in findings] == [(3, "2019–2023")]
    assert [(t.reviews, t.years) for t in recs] == [(2, "2019–2023")]
    # Sources about other topics (fathers, school) are not cited: they only share generic words.
    assert {c.chunk.doc_id for c in answer.citations} == {"a", "b", "c"}
    # A case summary (what happened) is not a finding.
    assert all(c.chunk.section in ("learning", "recommendations") for c in answer.citations)


def test_the_coverage_is_counted_with_the_reviews_the_answer_quotes() -> None:
    seen: list[set[str]] = []

    def count(quoted: Collection[str]) -> Coverage:
        seen.append(set(quoted))
        return replace(COVERAGE, reviews=9)

    answer = themed("what did reviews say about bruising?", HITS, count, embed)
    assert answer is not None
    assert seen == [{c.chunk.doc_id for c in answer.citations}]
    assert answer.coverage is not None and answer.coverage.reviews == 9
    assert answer.text.startswith("9 reviews in the collection")


def test_one_passage_alone_is_shown_as_the_closest_not_as_a_theme() -> None:
    shown: list[list[str]] = []
    little = Answer(question="q", text="little", citations=(), sources=(), refused=False, safety_notice=None)

    def closest(points: list[Point], hits: list[ReviewHit]) -> Answer:
        shown.append([p.quote for p in points])
        return little

    assert themed("children missing from school", HITS, counted, embed, closest=closest) is little
    assert shown == [["children missing from school were not followed up"]]
    # Where there is no closest answer to give (the trainer's themes), the one passage stands.
    answer = themed("children missing from school", HITS, counted, embed)
    assert answer is not None and len(answer.citations) == 1
    # Two sources making the point are a theme.
    assert themed("what did reviews say about bruising?", HITS, counted, embed, closest=closest) is not little


def test_themes_need_one_clause_surely_on_the_question_else_the_closest_are_shown() -> None:
    little = Answer(question="q", text="little", citations=(), sources=(), refused=False, safety_notice=None)
    sure = load_model(COSINE_RELEVANCE)
    assert themed("what did reviews say about bruising?", HITS, counted, embed, closest=lambda p, h: little) is not little
    # The same clauses, with the bar for "surely on the question" above any probability.
    strict = partial(themed_answer, model=replace(sure, little=1.01))
    assert strict("what did reviews say about bruising?", HITS, counted, embed, closest=lambda p, h: little) is little


def test_every_line_cites_its_own_verbatim_clause_and_the_opening_cites_all() -> None:
    answer = themed("what did reviews say about bruising?", HITS, counted, embed)
    assert answer is not None
    lines = answer.text.split("\n")
    assert lines[0].startswith("7 reviews in the collection (2019–2023) discuss this topic, counted as reviews carrying")
    assert [int(n) for n in re.findall(r"\[(\d+)\]", lines[0])] == [c.n for c in answer.citations]
    for line in lines[1:]:
        (n,) = re.findall(r"\[(\d+)\]", line)
        c = answer.citations[int(n) - 1]
        assert f"“{c.quote}”" in line and c.quote in c.chunk.text
    assert lines[1].startswith("Found in 3 reviews: “")
    # Every theme cites each of its sources once, headline first.
    for t in answer.themes:
        docs = [answer.citations[n - 1].chunk.doc_id for n in t.citations]
        assert len(docs) == len(set(docs)) == t.reviews
        assert answer.citations[t.citations[0] - 1].quote == t.heading


def test_a_theme_resting_on_one_review_says_so() -> None:
    hits = [
        *HITS[:2],
        review("f", 2022, "the father was not asked about bruising", "ask fathers about safe sleep"),
        review("h", 2021, "fathers were not seen at home"),
    ]
    answer = themed("fathers and safe sleep", hits, counted, embed, settings=TWO)
    assert answer is not None
    assert "Recommended in one review only, 2022 – Area f – Child F: “ask fathers about safe sleep”" in answer.text
    assert [(t.kind, t.reviews) for t in answer.themes] == [("finding", 2), ("recommendation", 1)]


def test_too_few_relevant_sources_is_no_themed_answer() -> None:
    assert themed("children missing from school", HITS, counted, embed, settings=TWO) is None
    two = [HITS[0], HITS[1], HITS[3]]  # two about bruising: under a minimum of three
    assert themed("what did reviews say about bruising?", two, counted, embed, settings=ThemeSettings(min_sources=3)) is None
    # By default one source with a clause on the question is enough: precision over volume.
    assert themed("what did reviews say about bruising?", two, counted, embed) is not None


def test_themes_draw_on_the_sources_about_the_question_s_label_topped_up_from_the_ranking() -> None:
    a, b, c, d, e = HITS
    ranked = [a, d, b, c, e]
    cfg = ThemeSettings(sources=4, least=3)
    assert drawn_on(ranked, None, cfg) == [a, d, b, c]  # no label read: the first four as ranked
    assert drawn_on(ranked, {"a", "b", "c"}, cfg) == [a, b, c]  # d carries another label
    assert drawn_on(ranked, {"a"}, cfg) == [a, d, b]  # too few on the topic: topped up in ranking order
    # A source NSPCC labelled as about something else is not cited for a point it happens to share.
    off = review("x", 2024, "bruising was noted in passing")
    three = ThemeSettings(least=3)
    answer = themed("what did reviews say about bruising?", [*HITS, off], counted, embed, settings=three, on_topic={"a", "b", "c"})
    assert answer is not None and {c.chunk.doc_id for c in answer.citations} == {"a", "b", "c"}
    answer = themed("what did reviews say about bruising?", [*HITS, off], counted, embed, settings=three)
    assert answer is not None and "x" in {c.chunk.doc_id for c in answer.citations}


def test_a_review_found_by_its_summary_alone_is_completed_with_its_learning() -> None:
    found = review("s", 2021, "unused", summary="A baby was bruised at home.")
    summary_only = replace(found, passages=found.passages[:1])  # retrieval matched the summary alone
    hits = [*HITS[:3], summary_only]
    three = ThemeSettings(least=3)

    def complete(drawn: list[ReviewHit]) -> list[ReviewHit]:
        learning = review("s", 2021, "the bruise was not seen as a warning sign").passages
        return [replace(h, passages=(*h.passages, *learning)) if h.doc_id == "s" else h for h in drawn]

    question = "what did reviews say about bruising?"
    without = themed(question, hits, counted, embed, settings=three)
    assert without is not None and "s" not in {c.chunk.doc_id for c in without.citations}  # a summary is no finding
    answer = themed(question, hits, counted, embed, settings=three, complete=complete)
    assert answer is not None
    cited = [c for c in answer.citations if c.chunk.doc_id == "s"]
    assert [c.quote for c in cited] == ["the bruise was not seen as a warning sign"]
    shown = {p.chunk.chunk_id for h in answer.sources for p in h.passages}
    assert all(c.chunk.chunk_id in shown for c in answer.citations), "every quoted passage is among the answer's sources"


def test_a_follow_up_is_about_its_new_aspect() -> None:
    hits = [*HITS, review("g", 2022, "bruising was seen but the father was not spoken to")]
    answer = themed("and what about fathers? (bruising)", hits, counted, embed, focus="fathers", settings=TWO)
    assert answer is not None and answer.focus == "fathers"
    assert {c.chunk.doc_id for c in answer.citations} == {"d", "g"}


def test_surfaces_lay_themes_out_as_sections() -> None:
    answer = themed("what did reviews say about bruising?", HITS, counted, embed)
    assert answer is not None
    opening, sections = theme_layout(answer)
    assert opening == answer.text.split("\n")[0]
    assert [title for title, _ in sections] == ["What reviews found", "What reviews recommended"]
    assert sections[0][1][0].caption == "3 sources · 2019–2023" and len(sections[0][1][0].support) == 2
    html = answer_html(answer)
    assert '<h3 class="cb-section">What reviews found</h3>' in html and 'href="#cb-cite-1"' in html
    md = answer_markdown(answer)
    assert "### What reviews recommended" in md and "_Counted as reviews carrying" in md
