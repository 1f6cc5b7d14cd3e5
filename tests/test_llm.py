"""Generative answers with a real model: the packaged SmolLM2-135M GGUF in-process (llama-cpp-python)
and behind a real OpenAI-compatible server (llama-cpp-python's), through LangChain's clients."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.answers.guard import guard
from assistant.casebook import Casebook
from assistant.model.generate import Generator, budget_sources, packaged_smollm2, parse_llm
from ingest.sources import read_collection_file
from records.settings import Settings
from records.types import Answer
from tests.helpers.net import free_port, wait_for_http

pytestmark = pytest.mark.slow
QUESTION = "What did reviews say about co-sleeping and alcohol?"


def assert_grounded(answer: Answer) -> None:
    assert not answer.refused and answer.citations and answer.notes
    numbers = {c.n for c in answer.citations}
    for line in answer.text.split("\n"):
        marks = {int(m) for m in re.findall(r"\[(\d+)\]", line)}
        assert marks and marks <= numbers, line
    for c in answer.citations:
        assert c.quote in c.chunk.text
        assert read_collection_file(c.chunk.source_file).text[c.quote_start : c.quote_end] == c.quote


@pytest.fixture(scope="module")
def in_process(real_index: Settings) -> Casebook:
    return Casebook(real_index.replace(llm="llamacpp"))


def test_packaged_model_answers_in_process(in_process: Casebook) -> None:
    generator = in_process.generator
    assert isinstance(generator, Generator) and generator.spec.backend == "llamacpp"
    hits = in_process.search(QUESTION, k=3)
    draft = generator.draft(QUESTION, [h.best for h in hits])
    assert len(draft.split()) >= 5, "the model wrote something"
    streamed: list[str] = []
    answer = in_process.ask(QUESTION, on_token=streamed.append)
    assert streamed and "".join(streamed).strip()
    assert_grounded(answer)
    assert_note_matches_the_guard(in_process, "".join(streamed), answer, "llamacpp")


def assert_note_matches_the_guard(cb: Casebook, draft: str, answer: Answer, label: str) -> None:
    """The answer is the model's (checked) text exactly when the guard accepts the draft; otherwise the
    extractive answer with the fallback note. Decided here independently of the facade."""
    extractive = Casebook(cb.settings.replace(llm="extractive"), embedder=cb.embedder).ask(QUESTION)
    n = cb.settings.llm_sources
    if cb.settings.llm_style == "per_source" or (cb.settings.llm_style == "auto" and cb.llm.backend == "llamacpp"):
        first: dict[str, Any] = {}
        for c in extractive.citations:  # the per-source style: each source's first quoted finding
            first.setdefault(c.chunk.doc_id, c)
        sources = [c.chunk for c in list(first.values())[:n]]
    else:
        sources = budget_sources(QUESTION, [h.best for h in extractive.sources[:n]], cb.settings)
    checked = guard(draft, sources, cb.judge)
    if checked is None:
        assert answer.notes[0].startswith(f"Too little of {label}")
        assert answer.text == extractive.text and answer.written_by == "fallback"
    else:
        assert answer.notes[0].startswith(f"Written by {label}")
        assert checked.text in answer.text and answer.written_by == label


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            packaged_smollm2(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_http(base + "/models", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_openai_compatible_server(real_index: Settings, llama_server: str) -> None:
    cb = Casebook(real_index.replace(llm="openai:smollm2", llm_base_url=llama_server, llm_timeout_s=120))
    assert parse_llm("openai:smollm2").label == "openai:smollm2"
    streamed: list[str] = []
    answer = cb.ask(QUESTION, on_token=streamed.append)
    assert "".join(streamed).strip(), "the server streamed a reply"
    assert_grounded(answer)
    assert_note_matches_the_guard(cb, "".join(streamed), answer, "openai:smollm2")


def test_a_server_that_is_down_falls_back_with_a_clear_note(real_index: Settings) -> None:
    port = free_port()  # nothing listens here
    cb = Casebook(real_index.replace(llm="openai:any", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=5))
    started = time.monotonic()
    answer = cb.ask(QUESTION)
    assert time.monotonic() - started < 30
    assert "did not answer" in answer.notes[0] and "extractive answer" in answer.notes[0]
    assert_grounded(answer)


def test_trainer_prompts_with_the_model_stay_cited(in_process: Casebook) -> None:

    p = in_process.prompts("unseen men", n=2)
    assert len(p.lines) == 2
    for line in p.lines:
        assert line.cites and line.text.rstrip().endswith("?")


def test_packaged_model_words_theme_headlines_or_leaves_the_clause(real_index: Settings) -> None:
    """llm_style "headlines": the themed answer keeps its citations; each theme two or more reviews
    make is headed by the model's sentence only where it passed the checks, else by its clause."""
    from assistant.answers.guard import invents

    cb = Casebook(real_index.replace(llm="llamacpp", llm_style="headlines"))
    plain = Casebook(real_index, embedder=cb.embedder).ask(QUESTION)
    answer = cb.ask(QUESTION)
    assert plain.themes and answer.citations == plain.citations
    assert_grounded(answer)
    shared = [(i, t) for i, t in enumerate(answer.themes) if t.reviews >= 2]
    assert shared, "the question has themes two or more reviews make"
    written = 0
    for i, theme in shared:
        quotes = [answer.citations[n - 1].quote for n in theme.citations][:4]
        if theme.written_by == "quote":
            assert theme == plain.themes[i]
            continue
        written += 1
        assert theme.written_by == "llamacpp" and not invents(theme.heading, " ".join(quotes), QUESTION)
        assert sum(cb.judge.verdicts([(theme.heading, q) for q in quotes])) * 2 >= len(quotes)
    if written:
        assert answer.notes[0].startswith(f"{written} of {len(shared)} theme headlines written by llamacpp")
    else:
        assert answer.written_by == "fallback" and answer.text == plain.text
