"""Trainer mode on the real index: cited prompts, 7-minute briefings in md/docx/pdf, thin themes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.casebook import Casebook
from assistant.surfaces import cli
from assistant.surfaces.handout import briefing_markdown, write_briefing
from assistant.trainer import Briefing
from ingest.sources import read_collection_file
from records.settings import Settings
from records.types import Citation, Filters

pytestmark = pytest.mark.slow
THEMES = ("infants", "unseen men", "unsafe sleeping")


@pytest.fixture(scope="module")
def cb(real_index: Settings) -> Casebook:
    return Casebook(real_index)


def assert_verbatim(citations: tuple[Citation, ...]) -> None:
    texts: dict[str, str] = {}
    for c in citations:
        assert c.quote and c.quote in c.chunk.text
        if c.chunk.source_file not in texts:
            texts[c.chunk.source_file] = read_collection_file(c.chunk.source_file).text
        assert texts[c.chunk.source_file][c.quote_start : c.quote_end] == c.quote


@pytest.mark.parametrize("theme", THEMES)
def test_prompts_are_cited_and_distinct(cb: Casebook, theme: str) -> None:
    p = cb.prompts(theme, n=5)
    # Only points the relevance stage finds on the theme are prompts: fewer than asked, and it says so.
    assert 2 <= len(p.lines) <= 5
    assert (p.notice is None) == (len(p.lines) == 5), p.notice
    numbers = {c.n for c in p.citations}
    quotes = []
    for line in p.lines:
        assert line.cites and set(line.cites) <= numbers
        assert all(f"[{n}]" in line.text for n in line.cites)
        assert line.text.rstrip().endswith("?"), "each prompt asks practitioners to apply the point"
        quotes.append(re.search(r"“(.+?)”", line.text).group(1))  # type: ignore[union-attr]
    assert len(set(quotes)) == len(quotes), "no two prompts on the same learning point"
    assert_verbatim(p.citations)


def test_themes_produce_distinct_relevant_output(cb: Casebook) -> None:
    outputs = {t: cb.prompts(t, n=5) for t in THEMES}
    sources = {t: {c.chunk.doc_id for c in p.citations} for t, p in outputs.items()}
    a, b, c = sources["infants"], sources["unseen men"], sources["unsafe sleeping"]
    assert a != b and b != c and a != c, "each theme draws on its own reviews"
    assert len(sources["unseen men"] & sources["unsafe sleeping"]) <= 1
    men = " ".join(x.text for x in outputs["unseen men"].lines).lower()
    assert any(w in men for w in ("men", "father", "male"))
    sleep = " ".join(x.text for x in outputs["unsafe sleeping"].lines).lower()
    assert "sleep" in sleep
    infants = outputs["infants"]
    assert all(c.chunk.meta.age_band in ("under 1", "1-4", "multiple/unknown", "unborn") for c in infants.citations)


def _factual_lines(b: Briefing) -> list[str]:
    return [
        line.text
        for name, lines in b.sections
        if name not in ("Reflective questions", "Action plan")
        for line in lines
        if not line.text.startswith("Nothing more in these reviews")  # says there is nothing: cites nothing
    ]


@pytest.mark.parametrize("theme", THEMES)
def test_briefing_every_factual_line_cited(cb: Casebook, theme: str) -> None:
    b = cb.briefing(theme)
    assert [name for name, _ in b.sections] == [
        "Background",
        "Why it matters",
        "Key information",
        "Things to remember",
        "What to do",
        "Reflective questions",
        "Action plan",
    ]
    key = dict(b.sections)["Key information"]
    nothing_more = "Nothing more in these reviews speaks specifically"
    assert 1 <= len(key) <= 3 and (all(line.cites for line in key) or key[0].text.startswith(nothing_more))
    numbers = {c.n for c in b.citations}
    for text in _factual_lines(b):
        marks = {int(m) for m in re.findall(r"\[(\d+)\]", text)}
        assert marks and marks <= numbers, text
    assert dict(b.sections)["Reflective questions"]
    assert b.references and all(h.best.meta.year and h.best.meta.area for h in b.references)
    assert_verbatim(b.citations)
    md = briefing_markdown(b)
    assert "| Action | Who | By when | How we will know |" in md and "## Reviews used" in md


def test_docx_opens_and_pdf_renders(cb: Casebook, tmp_path: Path) -> None:
    from docx import Document as Docx

    b = cb.briefing("unseen men")
    docx_path = write_briefing(b, "docx", tmp_path / "b.docx")
    doc = Docx(str(docx_path))
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert "1. Background" in headings and "7. Action plan" in headings and "Reviews used" in headings
    assert len(doc.tables) == 2 and doc.tables[0].rows[0].cells[0].text == "Action"

    pdf_path = write_briefing(b, "pdf", tmp_path / "b.pdf")
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is installed by .ci/run"
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")], check=True)
    page = tmp_path / "page-1.png"
    assert page.exists() and page.stat().st_size > 5000
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert "7-minute briefing: unseen men" in text and "Action plan" in text
    first = b.citations[0].quote
    assert " ".join(first.split()[:4]) in " ".join(text.split())


def test_thin_theme_says_so(cb: Casebook) -> None:
    p = cb.prompts("forced marriage", n=5)
    assert p.notice and p.notice.startswith("Only 1 review in the collection discusses forced marriage")
    assert len(p.lines) < 5
    b = cb.briefing("forced marriage")
    assert b.notice and "Only 1 review" in b.notice
    none = cb.prompts("baking bread", n=3)
    assert none.lines == () and none.notice and "no case reviews" in none.notice


def test_filters_apply(cb: Casebook) -> None:
    p = cb.prompts("neglect", Filters(year_from=2022, year_to=2022), n=3)
    assert p.citations and all(c.chunk.meta.year == 2022 for c in p.citations)


def test_cli_prompts_json_and_briefing_file(
    real_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("CASEBOOK_HOME", str(real_index.home))
    assert cli.main(["prompts", "--theme", "unseen men", "--n", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["theme"] == "unseen men" and len(data["prompts"]) == 3
    for p in data["prompts"]:
        assert p["citations"] and {"n", "source_id", "title", "year", "area", "kind", "quote", "url"} <= set(p["citations"][0])
        assert p["citations"][0]["quote"] in p["prompt"]
    out = tmp_path / "b.docx"
    assert cli.main(["briefing", "--theme", "unsafe sleeping", "--format", "docx", "-o", str(out)]) == 0
    assert out.stat().st_size > 10000
    assert cli.main(["prompts", "--theme", "unseen men", "--n", "50"]) == 2
    assert "expected 1 to 20" in capsys.readouterr().err
