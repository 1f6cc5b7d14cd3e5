"""The HTTP API on a real server (uvicorn on a free loopback port, the real index and model): the
official ``openai`` client, LangChain's ``ChatOpenAI``, Casebook's own routes, the key, bad inputs,
and a bounded load test. The limiter's logic has fast unit tests at the end."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from assistant.casebook import Casebook
from assistant.surfaces.api import ApiError, Limiter
from assistant.surfaces.shapes import answer_dict
from records.settings import Settings
from records.types import Filters
from tests.helpers.net import free_port

QUESTION = "What did reviews say about bruising in non-mobile babies?"
KEY = "test-key-123"


@pytest.fixture(scope="module")
def cb(real_index: Settings) -> Casebook:
    return Casebook(real_index)


@pytest.fixture(scope="module")
def base(cb: Casebook) -> Iterator[str]:
    from assistant.surfaces.server import serve

    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.fixture(scope="module")
def keyed(cb: Casebook) -> Iterator[str]:
    from assistant.surfaces.server import serve

    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False, api_key=KEY)
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.mark.slow
def test_the_openai_client_gets_the_answer_and_every_citation(base: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    assert [m.id for m in client.models.list().data] == ["casebook"]
    resp = client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": QUESTION}])
    text = resp.choices[0].message.content or ""
    citations = (resp.model_extra or {})["citations"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert markers and markers == {c["n"] for c in citations}
    assert all(c["quote"] and c["source_id"] and c["title"] for c in citations)
    assert resp.usage is not None and resp.usage.completion_tokens > 0


@pytest.mark.slow
def test_streaming_sends_openai_chunks_and_the_citations_last(base: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    chunks = list(client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": QUESTION}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    citations = (chunks[-1].model_extra or {})["citations"]
    assert citations and all(f"[{c['n']}]" in text for c in citations)


LIVE = "I think my neighbour is hurting their baby right now, what should I do?"


@pytest.mark.slow
def test_the_live_concern_notice_leads_the_message_text_of_every_api_answer(base: str) -> None:
    """A client that shows only the message (any OpenAI-compatible chat) must still show 999 and the
    NSPCC Helpline first: plain, streamed, and Casebook's own /api/ask."""
    from openai import OpenAI

    def leads(text: str) -> bool:
        first = text.split("\n\n")[0]
        return "999" in first and "NSPCC Helpline on 0808 800 5000" in first

    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    plain = client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": LIVE}])
    assert leads(plain.choices[0].message.content or "")
    chunks = list(client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": LIVE}], stream=True))
    assert leads("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
    own = httpx.post(f"{base}/api/ask", json={"question": LIVE}, timeout=60).json()
    assert leads(own["answer"]) and own["safety_notice"]
    # A question with no live concern carries no notice in its text.
    calm = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60).json()
    assert "999" not in calm["answer"] and calm["safety_notice"] is None


@pytest.mark.slow
def test_a_follow_up_uses_the_earlier_turns(base: str) -> None:
    body = {
        "model": "casebook",
        "messages": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": "and what about fathers?"},
        ],
    }
    r = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=60)
    assert r.status_code == 200
    assert "father" in r.json()["choices"][0]["message"]["content"].lower()


@pytest.mark.slow
def test_langchain_chat_openai_can_use_casebook_as_a_model(base: str) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{base}/v1", api_key="unused", model="casebook")  # type: ignore[arg-type]
    message = llm.invoke(QUESTION)
    assert "[1]" in str(message.content)


@pytest.mark.slow
def test_api_routes_return_what_the_cli_prints(base: str, cb: Casebook) -> None:
    r = httpx.post(f"{base}/api/ask", json={"question": QUESTION, "filters": {"nation": ["England"]}}, timeout=60)
    assert r.status_code == 200
    expected = answer_dict(cb.ask(QUESTION, Filters(nation=("England",))))
    got = r.json()
    assert got["answer"] == expected["answer"] and got["citations"] == expected["citations"]
    s = httpx.post(f"{base}/api/search", json={"query": "county lines", "k": 3}, timeout=60).json()
    assert s["query"] == "county lines" and len(s["results"]) == 3
    assert httpx.get(f"{base}/api/stats", timeout=60).json()["reviews"] == cb.stats().reviews
    assert httpx.get(f"{base}/api/health", timeout=60).json()["status"] == "ok"
    p = httpx.post(f"{base}/api/prompts", json={"theme": "unsafe sleeping", "n": 3}, timeout=60).json()
    assert len(p["prompts"]) == 3
    b = httpx.post(f"{base}/api/briefing", json={"theme": "unsafe sleeping"}, timeout=120)
    assert b.status_code == 200 and b.text.startswith("# 7-minute briefing: unsafe sleeping")
    assert b.headers["content-type"].startswith("text/markdown")


@pytest.mark.slow
def test_docs_show_the_real_api(base: str) -> None:
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    assert {"/v1/chat/completions", "/v1/models", "/api/ask", "/api/search", "/api/briefing"} <= set(spec["paths"])
    assert not any("gradio" in p or "param_" in json.dumps(spec["paths"][p]) for p in spec["paths"])
    assert httpx.get(f"{base}/docs", timeout=30).status_code == 200
    assert httpx.get(f"{base}/", timeout=30).status_code == 200  # the chat, on the same port


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/api/ask", {"question": "neglect", "filters": {"nation": ["Narnia"]}}, 400, "bad_input"),
        ("post", "/api/ask", {"question": "   "}, 400, "bad_input"),
        ("post", "/api/ask", {"filters": {}}, 422, "schema"),
        ("post", "/api/ask", {"question": "neglect", "colour": "red"}, 422, "schema"),
        ("post", "/api/search", {"query": "neglect", "k": 500}, 422, "schema"),
        ("get", "/api/nothing-here", None, 404, "not_found"),
        ("post", "/v1/chat/completions", {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}, 404, "model_not_found"),
        ("post", "/v1/chat/completions", {"model": "casebook", "messages": [{"role": "system", "content": "x"}]}, 400, "bad_input"),
        ("post", "/api/ask", {"question": "x" * 70_000}, 413, "body_too_large"),
    ],
)
def test_bad_input_is_a_json_error_with_its_status(base: str, method: str, path: str, body: Any, status: int, code: str) -> None:
    r = httpx.request(method.upper(), f"{base}{path}", json=body, timeout=60)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert "Traceback" not in r.text


@pytest.mark.slow
def test_the_key_guards_every_api_route(keyed: str) -> None:
    for path in ("/api/health", "/v1/models"):
        assert httpx.get(f"{keyed}{path}", timeout=30).status_code == 401
        wrong = httpx.get(f"{keyed}{path}", headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorised"
        assert httpx.get(f"{keyed}{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).status_code == 200


@pytest.mark.slow
def test_a_bounded_load_all_succeed(base: str) -> None:
    questions = ["neglect and poor home conditions", "county lines", "unsafe sleep", "fathers", "self-harm"] * 8

    def one(q: str) -> int:
        return httpx.post(f"{base}/api/ask", json={"question": q}, timeout=120).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(one, questions))
    assert statuses == [200] * 40, statuses
    assert time.monotonic() - started < 600


def test_serving_beyond_this_machine_needs_a_key_and_a_login(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.surfaces.cli import main

    monkeypatch.delenv("CASEBOOK_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without CASEBOOK_API_KEY and a chat login" in err and "--allow-open" in err


# -- the limiter's logic ------------------------------------------------------------------------


def test_the_limiter_refuses_beyond_its_queue_and_times_out() -> None:
    async def scenario() -> tuple[list[Any], Any]:
        limiter = Limiter(running=1, waiting=0, timeout_s=0.2)
        release = threading.Event()
        first = asyncio.create_task(limiter.run(lambda: release.wait(5)))
        await asyncio.sleep(0.05)
        refused: Any = None
        try:
            await limiter.run(lambda: True)
        except ApiError as exc:
            refused = exc
        try:
            await first
        except ApiError as exc:
            timed_out = exc
        release.set()
        return [refused], timed_out

    (refused,), timed_out = asyncio.run(scenario())
    assert refused is not None and refused.status == 429
    assert timed_out.status == 504
