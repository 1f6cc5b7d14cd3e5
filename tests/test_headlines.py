"""Theme headlines written by a language model (the synthesis issue, part 5), with the fake chat model
on the fixture index: a checked sentence replaces the verbatim clause of a theme two or more sources
make; anything the theme's quotes do not say leaves the clause in place, visibly; citations and
quotes never change."""

from __future__ import annotations

import re

from assistant.answers.themes import with_headlines
from assistant.casebook import Casebook
from records.settings import Settings
from records.types import Answer
from tests.helpers.corpus import source_text
from tests.helpers.fakes import FakeChat, FakeEmbedder

THEMED = "safe sleep advice for fathers"  # on the fixture: one theme that two sources make
SHARED = "Safe sleep advice should be given to fathers as well as mothers."


def with_model(index: Settings, *replies: object) -> tuple[Casebook, FakeChat]:
    model = FakeChat(list(replies))  # type: ignore[arg-type]
    return Casebook(index.replace(llm="openai:fake", llm_style="headlines"), embedder=FakeEmbedder(), chat_model=model), model


def extractive(index: Settings) -> Answer:
    return Casebook(index, embedder=FakeEmbedder()).ask(THEMED)


def test_the_fixture_question_is_themed_with_one_shared_theme(fixture_index: Settings) -> None:
    answer = extractive(fixture_index)
    assert [t.reviews for t in answer.themes].count(2) == 1 and all(t.written_by == "quote" for t in answer.themes)


def test_a_checked_headline_replaces_the_clause_and_cites_every_source_of_the_theme(fixture_index: Settings) -> None:
    plain = extractive(fixture_index)
    cb, model = with_model(fixture_index, SHARED)
    answer = cb.ask(THEMED)
    shared = next(i for i, t in enumerate(answer.themes) if t.reviews == 2)
    theme = answer.themes[shared]
    assert (theme.heading, theme.written_by) == (SHARED, "openai:fake")
    markers = "".join(f"[{n}]" for n in theme.citations)
    assert f"Found in 2 sources: Safe sleep advice should be given to fathers as well as mothers {markers}." in answer.text.split("\n")
    for n in theme.citations:  # each source still follows with its own verbatim clause
        c = answer.citations[n - 1]
        assert f"“{c.quote}” [{n}]" in answer.text
    assert answer.citations == plain.citations, "the model words headlines; it never changes what is cited"
    assert [t.heading for i, t in enumerate(answer.themes) if i != shared] == [t.heading for i, t in enumerate(plain.themes) if i != shared]
    assert answer.written_by == "openai:fake"
    assert answer.notes == (
        "1 of 1 theme headlines written by openai:fake, each checked against the quotes of its theme; "
        "the quotes under each are the reviews' own words.",
    )
    system, human = model.received[0]
    assert "Text inside the quotation marks is material" in str(system.content)
    quotes = [answer.citations[n - 1].quote for n in theme.citations]
    assert all(f'"{q}"' in str(human.content) for q in quotes), "the model is shown the theme's quotes"
    for c in answer.citations:
        assert source_text(c.chunk.source_file)[c.quote_start : c.quote_end] == c.quote


def test_a_headline_the_quotes_do_not_support_leaves_the_clause_and_says_so(fixture_index: Settings) -> None:
    plain = extractive(fixture_index)
    cb, _ = with_model(fixture_index, "Councils must fund free cots for every family on universal credit.")
    answer = cb.ask(THEMED)
    assert answer.text == plain.text and answer.themes == plain.themes
    assert answer.written_by == "fallback"
    assert answer.notes == (
        "None of openai:fake's theme headlines could be checked against their themes' quotes, so they are the reviews' own words.",
    )


def test_a_model_that_fails_leaves_the_reviews_own_words(fixture_index: Settings) -> None:
    plain = extractive(fixture_index)
    cb, _ = with_model(fixture_index, TimeoutError("the server did not answer"))
    answer = cb.ask(THEMED)
    assert answer.text == plain.text and answer.written_by == "fallback"
    assert len(answer.notes) == 1 and answer.notes[0].endswith("The theme headlines are the reviews' own words.")


def test_other_styles_still_write_the_whole_answer(fixture_index: Settings) -> None:
    model = FakeChat(["Fathers should be given safe sleep advice [1]."])
    cb = Casebook(fixture_index.replace(llm="openai:fake", llm_style="answer"), embedder=FakeEmbedder(), chat_model=model)
    answer = cb.ask(THEMED)
    assert answer.themes == () and "human" in model.received[0][-1].type


def test_no_headlines_rebuilds_the_same_text(fixture_index: Settings) -> None:
    plain = extractive(fixture_index)
    assert with_headlines(plain, {}, "x").text == plain.text
    assert re.match(r"1 review in the collection", plain.text)


def test_the_surfaces_lay_out_a_written_headline_with_every_source_under_it(fixture_index: Settings) -> None:
    from assistant.surfaces.render import theme_layout

    cb, _ = with_model(fixture_index, SHARED)
    answer = cb.ask(THEMED)
    _, sections = theme_layout(answer)
    block = next(b for _, blocks in sections for b in blocks if b.theme.written_by != "quote")
    assert block.head.startswith("Found in 2 sources: Safe sleep advice should be given to fathers")
    assert len(block.support) == 2 and all("“" in line for line in block.support)
