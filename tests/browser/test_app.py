"""The chat app in a real browser: Debian's chromium driven by Playwright, against the running app.

Screenshots go to the folder named by CASEBOOK_SCREENSHOTS, else to a temporary folder; either way the
tests print where they are. Nothing is written into the repository.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.casebook import Casebook
from assistant.surfaces.feedback import read_feedback
from records.settings import Settings, load_settings
from tests.helpers.net import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Hostile strangers '
    "visited the baby's home while the dog guarded the gate, and nobody asked who the visitors were."
)


def _serve(settings: Settings) -> tuple[Any, str]:
    from assistant.surfaces.server import serve

    port = free_port()
    app = serve(Casebook(settings), host="127.0.0.1", port=port, block=False)
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$CASEBOOK_SCREENSHOTS, else a temporary folder."""
    named = os.environ.get("CASEBOOK_SCREENSHOTS")
    folder = Path(named).expanduser() if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"browser screenshots: {folder}")
    return folder


def _screenshot(page: Any, folder: Path, name: str) -> None:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def app_url(real_index: Settings) -> Iterator[str]:
    app, url = _serve(real_index)
    yield url
    app.close()


def _ask(page: Any, question: str, *, expect_panel: bool = True) -> None:
    count = page.locator("#chat .message").count() if page.locator("#chat .message").count() else 0
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function("([n]) => document.querySelectorAll('#chat .message').length >= n + 2", arg=[count], timeout=60000)
    if expect_panel:
        page.wait_for_selector("#answer-panel .cb-panel", timeout=60000)


def test_ask_cite_filter_follow_up_feedback(browser: Any, app_url: str, real_index: Settings, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#question textarea", timeout=60000)
    assert "361 UK child safeguarding case reviews" in page.inner_text("#coverage")

    _ask(page, "What did reviews say about bruising in non-mobile babies?")
    page.wait_for_selector("#answer-panel .cb-answer a.cb-cite")
    assert page.locator("#answer-panel .cb-sources li").count() >= 1
    assert not page.is_visible("#cb-cite-1")
    page.click("#answer-panel .cb-answer a.cb-cite >> nth=0")
    page.wait_for_selector("#cb-cite-1", state="visible")
    quote = page.inner_text("#cb-cite-1 mark")
    assert len(quote) > 20 and quote in page.inner_text("#cb-cite-1 .cb-passage")
    _screenshot(page, screenshots, "answer-with-citation.png")
    # A themed answer: findings and recommendations as sections, and each [n] in the conversation
    # itself opens its source card too.
    panel = page.inner_text("#answer-panel")
    assert "What reviews found" in panel and "discuss this topic, counted as" in panel
    assert "What reviews found" in page.inner_text("#chat")
    assert not page.is_visible("#cb-cite-2")
    page.click("#chat a[href='#cb-cite-2'] >> nth=0")
    page.wait_for_selector("#cb-cite-2", state="visible")
    _screenshot(page, screenshots, "themed-answer.png")
    unfiltered = page.inner_text("#answer-panel .cb-sources")

    # A filter changes the results, and the answer says so.
    page.click("#nation label:has-text('Wales')")
    _ask(page, "What did reviews find about neglect?")
    panel = page.inner_text("#answer-panel")
    assert "Filtered to in Wales" in panel
    sources = page.inner_text("#answer-panel .cb-sources")
    assert sources != unfiltered
    page.click("#nation label:has-text('Wales')")

    # A follow-up that refers back is searched as a standalone question.
    _ask(page, "What did reviews say about bruising in non-mobile babies?")
    _ask(page, "and what about fathers?")
    panel = page.inner_text("#answer-panel")
    assert "Searched as:" in panel and "bruising" in panel and "the new aspect: fathers" in panel
    assert page.locator("#answer-panel .cb-answer a.cb-cite").count() >= 1

    # Feedback is stored locally.
    page.fill("#comment textarea", "quote 2 is about a different child")
    page.click("#thumbs-down")
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('saved')")
    saved = read_feedback(real_index.feedback_path)
    assert saved[-1]["rating"] == "down" and saved[-1]["comment"] == "quote 2 is about a different child"
    assert saved[-1]["standalone_question"]
    _screenshot(page, screenshots, "follow-up.png")
    page.close()


def test_a_counting_question_is_read_shown_and_set_in_the_side_panel(browser: Any, app_url: str, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#question textarea", timeout=60000)
    _ask(page, "How many reviews published in 2023 involved a teenager who died?")
    panel = page.inner_text("#answer-panel")
    assert "Read as: published 2023 · age 11–15 or 16–17 · outcome death" in panel
    assert page.inner_text("#chat").count("2023") >= 2 and "in the collection match" in page.inner_text("#chat")
    # The side panel shows the filters set, so they can be seen and undone.
    assert page.locator("#year-from input").input_value() == "2023"
    assert page.locator("#age-band input[type=checkbox]:checked").count() == 2
    assert page.locator("#outcome input[type=checkbox]:checked").count() == 1
    _screenshot(page, screenshots, "counting-question.png")
    # Read filters belong to the question that said them: the next question starts clear…
    _ask(page, "What did reviews say about neglect?")
    assert "published 2023" not in page.inner_text("#answer-panel")
    assert page.locator("#year-from input").input_value() == "any"
    # …but one the user sets in the side panel stays theirs.
    page.click("#nation label:has-text('Wales')")
    _ask(page, "What did reviews say about neglect?")
    assert "in Wales" in page.inner_text("#answer-panel")
    page.close()


def test_live_concern_notice_and_refusal(browser: Any, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#question textarea", timeout=60000)
    _ask(page, "I'm worried about a baby on my caseload who has a bruise")
    assert "0808 800 5000" in page.inner_text("#answer-panel .cb-notice")
    _ask(page, "How do I bake sourdough bread?")
    assert "will not guess" in page.inner_text("#answer-panel .cb-refusal")
    _ask(page, "   ", expect_panel=False)
    assert "the question is empty" in page.inner_text("#chat")
    page.close()


def test_hostile_source_text_is_rendered_inert(browser: Any, tmp_path: Path, screenshots: Path) -> None:
    from vectorstore.indexer import run_ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "hostile.txt").write_text(HOSTILE + "\n")
    (folder / "plain.txt").write_text("Neglect of a toddler was missed because home visits were cancelled.\n")
    settings = load_settings(env={"CASEBOOK_HOME": str(tmp_path / "home")})
    run_ingest(settings, [folder], progress=False)
    app, url = _serve(settings)
    try:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#question textarea", timeout=60000)
        _ask(page, "who were the visitors at the baby's home and the dog at the gate?")
        page.click("#answer-panel .cb-answer a.cb-cite >> nth=0")
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") is None
        text = page.inner_text("#answer-panel")
        assert "<script>" in text or "Hostile strangers" in text
        assert page.locator("#answer-panel script").count() == 0 and page.locator("#answer-panel img").count() == 0
        _screenshot(page, screenshots, "hostile-source.png")
        page.close()
    finally:
        app.close()


def test_trainer_tab_makes_a_cited_briefing_to_download(browser: Any, app_url: str, tmp_path: Path, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#question textarea", timeout=60000)
    page.get_by_role("tab", name="Trainer").click()
    page.fill("#theme textarea", "unseen men")
    page.click("#make-briefing")
    page.wait_for_selector("#trainer-panel .cb-answer a.cb-cite", timeout=60000)
    panel = page.inner_text("#trainer-panel")
    assert "7-minute briefing: unseen men" in panel and "Reflective questions" in panel
    page.click("#trainer-panel .cb-answer a.cb-cite >> nth=0")
    page.wait_for_selector("#trainer-panel .cb-card:target", state="visible")
    page.wait_for_selector("#trainer-download", state="visible")
    with page.expect_download() as info:
        page.click("#trainer-download")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".docx" and saved.stat().st_size > 10000
    page.click("#make-prompts")
    page.wait_for_function("() => document.querySelector('#trainer-panel').innerText.includes('Discussion prompts: unseen men')")
    _screenshot(page, screenshots, "trainer.png")
    page.close()
