"""assistant/surfaces/render.py: what comes from a source or a question is escaped; each [n] links to a
card that exists; the highlighted quote is the cited one; the Markdown export holds the sources."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from assistant.answers.refusal import refusal
from assistant.surfaces.render import answer_html, answer_markdown, citation_cards, trainer_html
from records.types import Citation, Filters
from tests.helpers.build import cited_answer, passage, source

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
HOSTILE_TEXT = f"{SCRIPT}{IMG} Hostile strangers visited the baby's home & nobody asked who they were."
QUOTE = "Hostile strangers visited the baby's home & nobody asked who they were"


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))


def hostile_answer():  # type: ignore[no-untyped-def]
    chunk = passage(HOSTILE_TEXT, heading=f"2021 – {SCRIPT} – Child Dan", url="javascript:alert(1)")
    other = passage("Fathers were not asked about their drinking.", doc="other", heading="2022 – Kent – Baby E")
    c1 = Citation.at(1, chunk, QUOTE, HOSTILE_TEXT.index(QUOTE))
    c2 = Citation.at(2, other, "Fathers were not asked about their drinking", 0)
    answer = cited_answer(
        f"what happened? {IMG}",
        f"Strangers visited {SCRIPT} [1]. Fathers were not asked [2]. Nothing supports this [7].",
        (c1, c2),
        standalone_question=f"and then? {SCRIPT}",
        notes=(f"Written by {IMG}",),
        safety_notice=f"Call 999 {SCRIPT}",
    )
    return replace(answer, sources=(*answer.sources, source(passage("Unrelated review.", doc="third", heading=f"2023 – {IMG} – X"))))


def test_nothing_from_a_source_or_question_becomes_markup() -> None:
    page = answer_html(hostile_answer())
    found = Elements(page)
    assert "script" not in found.tags and "img" not in found.tags
    assert not any(name.startswith("on") for name, _ in found.attrs)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "onerror=&quot;window.__pwned = 2&quot;" in page
    assert "home &amp; nobody" in page


def test_each_marker_links_to_a_card_that_exists() -> None:
    found = Elements(answer_html(hostile_answer()))
    cite_links = [h for h in found.hrefs if h.startswith("#cb-cite-")]
    assert sorted(set(cite_links)) == ["#cb-cite-1", "#cb-cite-2"]
    assert {f"cb-cite-{n}" for n in (1, 2)} <= set(found.ids)
    assert all(link[1:] in found.ids for link in cite_links)


def test_a_marker_with_no_citation_stays_text() -> None:
    page = answer_html(hostile_answer())
    assert "Nothing supports this [7]." in page and "#cb-cite-7" not in page


def test_the_card_highlights_exactly_the_quote() -> None:
    page = citation_cards(hostile_answer().citations)
    assert "<mark>Hostile strangers visited the baby&#x27;s home &amp; nobody asked who they were</mark>" in page


def test_a_quote_that_does_not_match_its_offsets_is_not_highlighted() -> None:
    chunk = passage("Fathers were not asked about their drinking.")
    wrong = Citation(n=1, chunk=chunk, quote="Fathers were not asked", quote_start=chunk.start + 3, quote_end=chunk.start + 25)
    assert "<mark>" not in citation_cards((wrong,))


def test_the_panel_shows_notice_filters_standalone_question_and_notes() -> None:
    answer = replace(hostile_answer(), filters=Filters(nation=("Wales",)))
    page = answer_html(answer)
    assert page.index('class="cb-notice"') < page.index("Filtered to in Wales.") < page.index("Searched as: “and then? &lt;script&gt;")
    assert "Written by &lt;img src=x" in page
    assert "Other relevant reviews" in page and "2023 – &lt;img" in page


def test_a_refusal_has_no_cards() -> None:
    page = answer_html(refusal("how do I bake bread?", None, Filters(), reviews=4, years="2020–2023"))
    found = Elements(page)
    assert 'class="cb-refusal"' in page and "4 UK child safeguarding case reviews published 2020–2023" in page
    assert not [h for h in found.hrefs if h.startswith("#cb-cite-")] and "cb-card" not in page


def test_trainer_html_escapes_and_links() -> None:
    answer = hostile_answer()
    page = trainer_html(f"Prompts: {SCRIPT}", [("Learning", [f"{QUOTE} [1]", "What would you do? [3]"])], answer.citations, IMG)
    found = Elements(page)
    assert "script" not in found.tags and "img" not in found.tags
    assert "#cb-cite-1" in found.hrefs and "#cb-cite-3" not in found.hrefs


def test_markdown_export_holds_the_question_answer_and_sources() -> None:
    answer = replace(hostile_answer(), filters=Filters(year_from=2020))
    md = answer_markdown(answer).split("\n")
    assert md[0] == f"**Question:** what happened? {IMG}"
    assert f"> **Call 999 {SCRIPT}**" in md
    assert "_Filtered to published 2020 or later._" in md
    assert f"_Searched as: “and then? {SCRIPT}”_" in md
    assert f"Strangers visited {SCRIPT} [1]. Fathers were not asked [2]. Nothing supports this [7]." in md
    sources = md[md.index("**Sources**") + 2 :]
    assert sources[0] == f"1. 2021 – {SCRIPT} – Child Dan (2021 · case review · learning): “{QUOTE}”"
    assert sources[1] == "2. 2022 – Kent – Baby E (2021 · case review · learning): “Fathers were not asked about their drinking”"
    assert md[-1].startswith("_Casebook: learning from UK child safeguarding case reviews")


def test_markdown_of_a_refusal_has_no_sources() -> None:
    md = answer_markdown(refusal("bread?", None, Filters()))
    assert "**Sources**" not in md and "will not guess" in md


def test_a_source_url_is_linked_only_when_it_is_http() -> None:
    page = answer_html(hostile_answer())  # its first source's url is javascript:alert(1)
    assert "javascript:" not in " ".join(Elements(page).hrefs)
    good = passage("Fathers were not asked.", doc="g", url="https://learning.nspcc.org.uk/case-reviews")
    cards = citation_cards([Citation.at(1, good, "Fathers were not asked", 0)])
    assert "https://learning.nspcc.org.uk/case-reviews" in Elements(cards).hrefs


def test_markdown_export_keeps_the_answers_notes() -> None:
    answer = replace(hostile_answer(), notes=("Written by llamacpp; every sentence was checked.",))
    assert "_Written by llamacpp; every sentence was checked._" in answer_markdown(answer).split("\n")
