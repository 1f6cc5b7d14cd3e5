"""The MCP server (assistant/surfaces/mcp.py) through the SDK's own clients: in memory against the server
on the small fixture index (fast) and on the bundled collection with the real model; ``casebook mcp`` as
a real stdio subprocess; ``/mcp`` on a real ``casebook serve`` with and without its key.

What the tools return is checked against what does not come from them: the listing's own details
(tests/helpers/corpus.py), the ledger's statistics, and the chunks as the store holds them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent
from starlette.testclient import TestClient

from assistant.casebook import Casebook
from assistant.surfaces.mcp import build_mcp, mount_mcp
from records.settings import Settings
from records.types import NATIONS
from tests.helpers.corpus import REVIEWS
from tests.helpers.fakes import FakeEmbedder
from tests.helpers.net import free_port, wait_for_http

QUESTION = "What did reviews say about bruising in non-mobile babies?"
KEY = "mcp-test-key-7"
ROOT = Path(__file__).resolve().parents[1]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}
MCP_ACCEPT = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def small(fixture_index: Settings) -> Casebook:
    return Casebook(fixture_index, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def real(real_index: Settings) -> Casebook:
    return Casebook(real_index)


def text_of(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return text_of(result)


def assert_verbatim(cb: Casebook, citations: list[dict[str, Any]]) -> None:
    """Every quote is in its chunk as the store holds it, at the offsets the citation gives."""
    for c in citations:
        stored = {chunk.chunk_id: chunk for chunk in cb.chunks_of(c["source_id"])}
        chunk = stored[c["chunk_id"]]
        assert c["quote"] and c["quote"] in chunk.text, c
        assert chunk.text[c["quote_start"] - chunk.start : c["quote_end"] - chunk.start] == c["quote"], c


def casebook_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a ``casebook`` subprocess on ``settings``' index, with the packaged relevance model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOOK_")}
    return {**env, "CASEBOOK_HOME": str(settings.home), **extra}


# -- in memory, on the fixture index --------------------------------------------------------------


async def test_the_four_tools_are_listed_with_typed_input_and_output(small: Casebook) -> None:
    async with Client(build_mcp(small)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "search", "reviews", "review"}
    assert tools["ask"].input_schema["required"] == ["question"]
    assert {"question", "filters", "history"} <= set(tools["ask"].input_schema["properties"])
    assert tools["ask"].output_schema is not None and "citations" in tools["ask"].output_schema["properties"]
    assert tools["search"].output_schema is not None and "results" in tools["search"].output_schema["properties"]
    assert tools["review"].output_schema is not None and "recommendations" in tools["review"].output_schema["properties"]
    assert all(t.annotations is not None and t.annotations.read_only_hint for t in tools.values())


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("ask", {"question": "What was learned about safe sleep?", "filters": {"nation": ["Atlantis"]}}),
        ("search", {"query": "safe sleep", "filters": {"nation": ["Wales", "Atlantis"]}}),
        ("reviews", {"filters": {"nation": ["Atlantis"]}}),
    ],
)
async def test_an_unknown_filter_value_is_refused_naming_the_valid_ones(small: Casebook, tool: str, arguments: dict[str, Any]) -> None:
    async with Client(build_mcp(small)) as client:
        result = await client.call_tool(tool, arguments)
    text = error_text(result)
    assert "unknown nation 'Atlantis'; expected one of:" in text
    assert all(n in text for n in NATIONS)
    assert result.structured_content is None  # refused, not answered over a wider collection


async def test_an_unknown_keyword_or_area_is_refused_with_the_nearest_ones(small: Casebook) -> None:
    async with Client(build_mcp(small)) as client:
        keyword = error_text(await client.call_tool("reviews", {"filters": {"keyword": ["brusing"]}}))
        area = error_text(await client.call_tool("search", {"query": "neglect", "filters": {"area": ["Kentt"]}}))
        age = error_text(await client.call_tool("reviews", {"filters": {"age_band": ["toddler"]}}))
    assert "unknown keyword 'brusing'" in keyword and "bruising" in keyword
    assert "unknown area 'Kentt'" in area and "Kent" in area
    assert "unknown age band 'toddler'; expected one of: unborn, under 1, 1-4" in age


async def test_casebooks_errors_are_tool_errors_with_their_message_not_a_traceback(small: Casebook) -> None:
    async with Client(build_mcp(small)) as client:
        empty = error_text(await client.call_tool("ask", {"question": "   "}))
        long = error_text(await client.call_tool("search", {"query": "neglect " * 400}))
        missing = error_text(await client.call_tool("review", {"source": "no-such-review"}))
        years = error_text(await client.call_tool("reviews", {"filters": {"year_from": 2023, "year_to": 2020}}))
    assert "the question is empty" in empty
    assert "the limit is 2,000, so shorten it" in long
    assert "no source has the id 'no-such-review'" in missing and "source_id" in missing
    assert "year range 2023–2020 is empty" in years
    assert not any("Traceback" in t for t in (empty, long, missing, years))


async def test_reviews_counts_and_lists_what_the_listing_holds(small: Casebook) -> None:
    welsh = sorted(d for d, r in REVIEWS.items() if r["nation"] == "Wales")
    deaths_since_2021 = sorted(d for d, r in REVIEWS.items() if r["outcome"] == "death" and str(r["year"]) >= "2021")
    async with Client(build_mcp(small)) as client:
        every = (await client.call_tool("reviews", {})).structured_content
        wales = (await client.call_tool("reviews", {"filters": {"nation": ["Wales"]}})).structured_content
        deaths = (await client.call_tool("reviews", {"filters": {"outcome": ["death"], "year_from": 2021}})).structured_content
        counted = (await client.call_tool("reviews", {"limit": 0})).structured_content
    assert every is not None and wales is not None and deaths is not None and counted is not None
    assert every["count"] == len(REVIEWS) == small.stats().reviews  # the notes are documents, not reviews
    assert [r["year"] for r in every["reviews"]] == sorted((int(str(r["year"])) for r in REVIEWS.values()), reverse=True)
    assert sorted(r["source_id"] for r in wales["reviews"]) == welsh and wales["count"] == len(welsh)
    assert wales["filters"] == "Filtered to in Wales."
    assert sorted(r["source_id"] for r in deaths["reviews"]) == deaths_since_2021
    assert counted["count"] == len(REVIEWS) and counted["listed"] == 0 and counted["reviews"] == []


async def test_review_reads_a_review_section_by_section_in_its_own_words(small: Casebook) -> None:
    async with Client(build_mcp(small)) as client:
        review = (await client.call_tool("review", {"source": "nspcc-2021-leeds-child-dan"})).structured_content
    assert review is not None
    assert review["year"] == 2021 and review["nation"] == "England" and review["age_band"] == "1-4"
    assert review["summary"].startswith("Serious injuries to a 2-year-old boy")
    assert "nursery staff should share concerns about bruising" in review["learning"]
    assert "shared chronology of injuries" in review["recommendations"]
    passages = [c.text for c in small.chunks_of("nspcc-2021-leeds-child-dan")]
    for section in ("summary", "learning", "recommendations"):
        assert all(part in passages for part in review[section].split("\n\n")), section


async def test_a_users_note_comes_back_under_its_own_sections(small: Casebook) -> None:
    async with Client(build_mcp(small)) as client:
        listed = (await client.call_tool("reviews", {"filters": {"kind": ["document"]}, "limit": 10})).structured_content
        assert listed is not None and listed["count"] == 5
        note = next(r for r in listed["reviews"] if "interpret" in r["title"].lower())
        read = (await client.call_tool("review", {"source": note["source_id"]})).structured_content
    assert read is not None and read["kind"] == "document" and read["learning"] is None
    assert "never ask a child to interpret" in " ".join(s["text"] for s in read["other_sections"])


def test_mcp_mounted_on_an_app_runs_its_sessions_in_the_apps_lifespan_behind_the_key(small: Casebook) -> None:
    app = FastAPI()
    mount_mcp(app, small, api_key=KEY)
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:  # entering runs the app's lifespan
        assert http.post("/mcp", json=INITIALIZE, headers=MCP_ACCEPT).status_code == 401
        wrong = http.post("/mcp", json=INITIALIZE, headers={**MCP_ACCEPT, "Authorization": "Bearer not-the-key"})
        assert wrong.status_code == 401 and "CASEBOOK_API_KEY" in wrong.json()["error"]["message"]
        assert http.post("/mcp", json=INITIALIZE, headers={**MCP_ACCEPT, "Authorization": f"Basic {KEY}"}).status_code == 401
        ok = http.post("/mcp", json=INITIALIZE, headers={**MCP_ACCEPT, "Authorization": f"Bearer {KEY}"})
        rebound = http.post("/mcp", json=INITIALIZE, headers={**MCP_ACCEPT, "Authorization": f"Bearer {KEY}", "Host": "evil.example"})
    assert rebound.status_code == 421  # served on loopback: a page on another name cannot reach it
    assert ok.status_code == 200, ok.text
    assert '"serverInfo":{"name":"casebook"' in ok.text and ok.headers["mcp-session-id"]


# -- the bundled collection, the real model --------------------------------------------------------


@pytest.mark.slow
async def test_ask_answers_bruising_with_verbatim_citations(real: Casebook) -> None:
    async with Client(build_mcp(real)) as client:
        result = await client.call_tool("ask", {"question": QUESTION})
    answer = result.structured_content
    assert not result.is_error and answer is not None
    assert not answer["refused"] and answer["safety_notice"] is None
    assert len(answer["citations"]) >= 3 and answer["themes"] and answer["coverage"]["reviews"] >= 3
    assert all(f"[{c['n']}]" in answer["answer"] for c in answer["citations"])
    assert_verbatim(real, answer["citations"])
    assert json.loads(text_of(result))["citations"] == answer["citations"]  # the same JSON as text


@pytest.mark.slow
async def test_a_live_concern_leads_with_the_notice(real: Casebook) -> None:
    async with Client(build_mcp(real)) as client:
        answer = (
            await client.call_tool("ask", {"question": "My neighbour's baby has bruises right now, what should I do?"})
        ).structured_content
    assert answer is not None and answer["safety_notice"] and "999" in answer["safety_notice"]
    assert answer["answer"].startswith(answer["safety_notice"])


@pytest.mark.slow
async def test_search_keeps_to_its_filters_and_returns_the_source_records(real: Casebook) -> None:
    async with Client(build_mcp(real)) as client:
        found = (await client.call_tool("search", {"query": "neglect", "k": 8, "filters": {"nation": ["Wales"]}})).structured_content
    assert found is not None and 1 <= len(found["results"]) <= 8
    assert all(r["nation"] == "Wales" and r["text"] and r["source_id"] for r in found["results"])
    for r in found["results"]:
        assert r["text"] in [c.text for c in real.chunks_of(r["source_id"])]


@pytest.mark.slow
async def test_reviews_agrees_with_the_ledgers_statistics(real: Casebook) -> None:
    stats = real.stats()
    async with Client(build_mcp(real)) as client:
        for year, count in stats.by_year.items():
            got = (
                await client.call_tool("reviews", {"filters": {"year_from": int(year), "year_to": int(year)}, "limit": 0})
            ).structured_content
            assert got is not None and got["count"] == count, year
        england = (await client.call_tool("reviews", {"filters": {"nation": ["England"]}, "limit": 0})).structured_content
    assert england is not None and england["count"] == stats.by_nation["England"]


@pytest.mark.slow
async def test_review_finds_a_review_by_the_name_a_question_gives_it(real: Casebook) -> None:
    async with Client(build_mcp(real)) as client:
        by_name = (await client.call_tool("review", {"source": "the Kent review of Child H"})).structured_content
        by_id = (await client.call_tool("review", {"source": "nspcc-2019-kent-child-h"})).structured_content
    assert by_name is not None and by_name == by_id
    assert by_name["area"] == "Kent" and by_name["summary"] and by_name["learning"]


# -- `casebook mcp` over stdio ---------------------------------------------------------------------


def casebook_command() -> list[str]:
    script = Path(sys.executable).with_name("casebook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.surfaces.cli"]


@pytest.mark.slow
async def test_casebook_mcp_over_stdio_answers_with_verbatim_citations(real: Casebook) -> None:
    command, *args = casebook_command()
    params = StdioServerParameters(command=command, args=[*args, "mcp"], env={"CASEBOOK_HOME": str(real.settings.home)}, cwd=str(ROOT))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("ask", {"question": QUESTION})
        bad = await client.call_tool("ask", {"question": QUESTION, "filters": {"outcome": ["fatal"]}})
    assert {"ask", "search"} <= names
    answer = result.structured_content
    assert answer is not None and not answer["refused"] and len(answer["citations"]) >= 3
    assert_verbatim(real, answer["citations"])
    assert "unknown outcome 'fatal'; expected one of: death, serious harm, other" in error_text(bad)


@pytest.mark.slow
def test_nothing_but_the_protocol_reaches_stdout(real: Casebook) -> None:
    """Raw JSON-RPC over the pipe: every line `casebook mcp` writes is a protocol message, model loading
    and all, and closing stdin ends it cleanly."""
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "bruising", "k": 2}}},
    ]
    proc = subprocess.Popen(
        [*casebook_command(), "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=casebook_env(real.settings),
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    try:
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
        proc.stdin.flush()
        lines: list[bytes] = []
        while not any(b'"id":3' in line for line in lines) and (line := proc.stdout.readline()):
            lines.append(line)
        proc.stdin.close()  # the end of the conversation: the server exits
        lines += proc.stdout.read().splitlines()
        assert proc.wait(timeout=60) == 0
    finally:
        watchdog.cancel()
    replies = [json.loads(line) for line in lines if line.strip()]  # a stray print would fail here
    assert replies and all(r["jsonrpc"] == "2.0" for r in replies)
    by_id = {r["id"]: r for r in replies if "id" in r}
    assert set(by_id) == {1, 2, 3}, lines
    assert len(by_id[3]["result"]["structuredContent"]["results"]) == 2


# -- /mcp on `casebook serve` ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(real_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*casebook_command(), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=casebook_env(real_index, CASEBOOK_API_KEY=KEY),
            cwd=ROOT,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", proc, timeout_s=300)  # the chat's login page
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert "MCP on http://127.0.0.1" in log.read_text()


@pytest.mark.slow
def test_mcp_on_casebook_serve_refuses_without_the_key(served: str) -> None:
    missing = httpx.post(f"{served}/mcp", json=INITIALIZE, headers=MCP_ACCEPT, timeout=30)
    wrong = httpx.post(f"{served}/mcp", json=INITIALIZE, headers={**MCP_ACCEPT, "Authorization": "Bearer nope"}, timeout=30)
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorised"


@pytest.mark.slow
async def test_mcp_on_casebook_serve_works_with_the_key(real: Casebook, served: str) -> None:
    import httpx2

    keyed = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=httpx2.Timeout(30, read=300))
    async with keyed, Client(streamable_http_client(f"{served}/mcp", http_client=keyed)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("ask", {"question": QUESTION})
        counted = await client.call_tool("reviews", {"limit": 0})
    assert names == {"ask", "search", "reviews", "review"}
    answer = result.structured_content
    assert answer is not None and len(answer["citations"]) >= 3
    assert_verbatim(real, answer["citations"])
    assert counted.structured_content is not None and counted.structured_content["count"] == real.stats().reviews
