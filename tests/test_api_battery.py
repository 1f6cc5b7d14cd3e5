"""The HTTP API against bad and hostile input: bodies past the limit however they are framed, histories
too long to be a conversation, text that is valid JSON but not Unicode, a key header that is not ASCII,
absurd years, a refusal that says when to retry, and documentation that works with no internet.

On the small fixture index (fake embedder, real Chroma). What depends on the real server (chunked
framing, raw header bytes, the chat mounted beside the docs) goes to ``serve`` on a loopback port with
``http.client`` and raw sockets; the rest goes to the app in process through starlette's TestClient.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.casebook import Casebook
from assistant.surfaces import api
from assistant.surfaces.api import build_api
from records.settings import Settings
from tests.helpers.fakes import FakeEmbedder
from tests.helpers.net import free_port

KEY = "battery-key"
QUESTION = "What did reviews say about bruising in non-mobile babies?"


@pytest.fixture(scope="module")
def cb(fixture_index: Settings) -> Casebook:
    return Casebook(fixture_index, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def client(cb: Casebook) -> TestClient:
    return TestClient(build_api(cb), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def port(cb: Casebook) -> Iterator[int]:
    """The server users run (uvicorn, the chat mounted beside the API), with a key."""
    from assistant.surfaces.server import serve

    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False, api_key=KEY)
    yield port
    server.close()


def error_of(status: int, text: str, headers: Any) -> dict[str, Any]:
    """The JSON error a refusal carries (asserting it is one)."""
    assert headers["content-type"].startswith("application/json"), text
    assert "Traceback" not in text
    error: dict[str, Any] = json.loads(text)["error"]
    assert error["message"] and error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    return error


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


# -- 1. the body's size, whatever its framing ------------------------------------------------------


def test_a_chunked_body_is_refused_as_it_passes_the_limit_not_when_it_ends(port: int) -> None:
    """No Content-Length, and a body that never ends: the 413 must come from counting what arrived."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {KEY}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + chunk(b'{"question": "bruising", "history": ["')
        )
        for _ in range(6):  # 96 KB of a 64 KB limit, and no final chunk
            s.sendall(chunk(b"x" * 16_384))
        response = http.client.HTTPResponse(s)
        response.begin()
        text = response.read().decode()
        assert response.status == 413
        error = error_of(413, text, response.headers)
        assert error["code"] == "body_too_large" and "65,536 bytes" in error["message"]


def test_a_whole_chunked_body_over_the_limit_is_refused(client: TestClient) -> None:
    body = json.dumps({"question": "bruising", "history": ["x" * 100_000]}).encode()
    r = client.post("/api/ask", content=iter([body[i : i + 8192] for i in range(0, len(body), 8192)]))
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413
    assert error_of(413, r.text, r.headers)["code"] == "body_too_large"


def test_bodies_within_the_limit_are_answered_however_they_are_framed(port: int) -> None:
    body = json.dumps({"question": QUESTION}).encode()
    for framed in ({"body": iter([body[:20], body[20:]]), "encode_chunked": True}, {"body": body}):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/api/ask", headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}, **framed)
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["citations"]
        conn.close()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(client: TestClient) -> None:
    r = client.post("/api/search", json={"query": "x" * 70_000})
    assert r.status_code == 413 and error_of(413, r.text, r.headers)["code"] == "body_too_large"


# -- 2. a conversation's history, bounded ---------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "limit"),
    [
        (["x" * 5_000], "MAX_TURN_CHARS"),
        (["a question about neglect"] * 101, "MAX_TURNS"),
        (["y" * 3_900] * 11, "MAX_HISTORY_CHARS"),
    ],
    ids=["one-long-turn", "too-many-turns", "too-much-in-all"],
)
def test_a_history_past_its_bounds_is_refused_saying_the_limit(client: TestClient, history: list[str], limit: str) -> None:
    r = client.post("/api/ask", json={"question": "and what about fathers?", "history": history})
    assert r.status_code == 422, r.text[:300]
    message = error_of(422, r.text, r.headers)["message"]
    assert f"{getattr(api, limit):,}" in message and "history" in message
    assert "send" in message  # and what to do


def test_a_history_within_its_bounds_is_answered(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "and what about fathers?", "history": ["unsafe sleep"] * 99 + [QUESTION]})
    assert r.status_code == 200 and r.json()["standalone_question"]


def test_a_question_past_its_limit_is_refused_saying_the_limit(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 2_001}]})
    assert r.status_code == 400 and "2,000" in error_of(400, r.text, r.headers)["message"]


def test_a_long_openai_conversation_keeps_working(client: TestClient) -> None:
    """An OpenAI client resends every turn, the cited answers too: a hundred turns, and one earlier
    message far too long to be a question, are answered (their oldest part dropped), not refused."""
    messages: list[dict[str, str]] = [{"role": "user", "content": "z" * 100_000}]
    for i in range(100):
        messages += [{"role": "user", "content": f"question {i} about neglect"}, {"role": "assistant", "content": "an answer [1]. " * 100}]
    messages.append({"role": "user", "content": QUESTION})
    assert 200_000 < len(json.dumps({"messages": messages})) < api.MAX_CHAT_BODY_BYTES
    r = client.post("/v1/chat/completions", json={"model": "casebook", "messages": messages})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["choices"][0]["message"]["content"] and r.json()["citations"]


def test_a_chat_keeps_the_most_recent_earlier_turns_that_fit() -> None:
    recent = api.recent_turns
    assert recent(["a", "b", "c"]) == ["a", "b", "c"]
    turns = [f"q{i}" for i in range(api.MAX_TURNS + 20)]
    assert recent(turns) == turns[-api.MAX_TURNS :]
    # A message too long to be a question ends the history: nothing older is read past it.
    assert recent(["older", "p" * (api.MAX_TURN_CHARS + 1), "last"]) == ["last"]
    many = ["w" * api.MAX_TURN_CHARS] * 20
    kept = recent(many)
    assert sum(map(len, kept)) <= api.MAX_HISTORY_CHARS < sum(map(len, kept)) + api.MAX_TURN_CHARS


# -- 3. input that used to be a 500 ---------------------------------------------------------------


def test_a_key_header_that_is_not_ascii_is_a_401_and_the_server_goes_on(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", "/api/health")
    conn.putheader("Authorization", "Bearer k\xe41")  # http.client sends it as the latin-1 byte 0xE4
    conn.endheaders()
    response = conn.getresponse()
    text = response.read().decode()
    assert response.status == 401 and error_of(401, text, response.headers)["code"] == "unauthorised"
    conn.request("GET", "/api/health", headers={"Authorization": f"Bearer {KEY}"})  # the same connection
    assert conn.getresponse().status == 200
    conn.close()


def test_a_key_that_is_not_ascii_works(cb: Casebook) -> None:
    keyed = TestClient(build_api(cb, api_key="clé-secrète"), raise_server_exceptions=False)
    assert keyed.get("/api/health", headers={"Authorization": "Bearer clé-secrète".encode()}).status_code == 200
    assert keyed.get("/api/health", headers={"Authorization": "Bearer cle-secrete"}).status_code == 401


LONE = "\\ud800"  # as it stands in the JSON text: valid JSON, not Unicode


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/ask", f'{{"question": "{LONE} bruising"}}'),
        ("/api/ask", f'{{"question": "bruising", "history": ["x{LONE}"]}}'),
        ("/api/ask", f'{{"question": "bruising", "filters": {{"keyword": ["{LONE}"]}}}}'),
        ("/api/ask", f'{{"question": "bruising", "{LONE}": 1}}'),
        ("/api/search", f'{{"query": "bruising {LONE}"}}'),
        ("/api/search", '{"query": "bruising", "filters": {"nation": ["\\udfff"]}}'),
        ("/api/prompts", f'{{"theme": "{LONE}"}}'),
        ("/api/briefing", f'{{"theme": "unsafe sleep {LONE}"}}'),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": "{LONE} bruising"}}]}}'),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": "bruising"}}], "stream": true, "user": "{LONE}"}}'),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": [{{"type": "text", "text": "{LONE}"}}]}}]}}'),
        ("/v1/chat/completions", f'{{"model": "{LONE}", "messages": [{{"role": "user", "content": "bruising"}}]}}'),
    ],
)
def test_a_lone_surrogate_in_any_text_is_a_422(client: TestClient, path: str, raw: str) -> None:
    r = client.post(path, content=raw.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    error = error_of(422, r.text, r.headers)
    assert error["code"] == "schema" and "lone surrogate" in error["message"] and "UTF-8" in error["message"]


def test_a_surrogate_pair_is_text(client: TestClient) -> None:
    raw = '{"query": "bruising \\ud83d\\ude22"}'  # an emoji, escaped as JSON escapes it
    r = client.post("/api/search", content=raw.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200


@pytest.mark.parametrize("filters", [{"year_from": 10**30}, {"year_from": -5}, {"year_from": 0}, {"year_to": 99_999}, {"year_to": 10**30}])
def test_an_absurd_year_is_a_422_naming_the_range(client: TestClient, filters: dict[str, int]) -> None:
    r = client.post("/api/ask", json={"question": "bruising", "filters": filters})
    assert r.status_code == 422, r.text[:300]
    assert f"from {api.YEARS[0]} to {api.YEARS[1]}" in error_of(422, r.text, r.headers)["message"]


def test_a_real_year_is_a_filter(client: TestClient) -> None:
    assert client.post("/api/ask", json={"question": "bruising", "filters": {"year_from": 2020, "year_to": 2023}}).status_code == 200


# -- 4. a refusal says when to retry --------------------------------------------------------------


def test_a_429_says_when_to_retry(cb: Casebook) -> None:
    full = TestClient(build_api(cb, max_concurrent=0, max_waiting=0), raise_server_exceptions=False)  # no room at all
    r = full.post("/api/search", json={"query": "bruising"})
    assert r.status_code == 429 and error_of(429, r.text, r.headers)["code"] == "rate_limited"
    assert r.headers["retry-after"].isdigit() and int(r.headers["retry-after"]) >= 1
    assert f"retry in {r.headers['retry-after']} s" in r.json()["error"]["message"]


# -- 5. the documentation, offline ----------------------------------------------------------------


def test_the_docs_load_everything_from_this_server(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(path: str) -> tuple[int, bytes]:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()

    status, page = get("/docs")
    html = page.decode()
    assert status == 200 and "SwaggerUIBundle" in html
    assert not re.search(r"(https?:)?//[\w.-]+\.\w", html), "the docs page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert len(assets) >= 4 and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    fetched = {a: get(a) for a in assets}
    assert all(status == 200 and body for status, body in fetched.values()), {a: s for a, (s, _) in fetched.items()}
    spec = json.loads(fetched["/openapi.json"][1])
    bundle = next(body for a, (_, body) in fetched.items() if a.endswith(".js"))
    assert spec["openapi"].startswith("3.1") and b"isOAS31" in bundle  # a Swagger UI that reads this spec
    conn.close()


def test_the_documentation_shows_every_responses_shape(client: TestClient) -> None:
    """Typed response models (assistant/shapes.py): /openapi.json names the shape each route returns,
    the same one ``--json`` prints."""
    spec = client.get("/openapi.json").json()

    def returned(path: str, method: str) -> str:
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        return str(schema.get("$ref", "")).rsplit("/", 1)[-1]

    expected = {
        ("/api/ask", "post"): "AnswerOut",
        ("/api/search", "post"): "SearchOut",
        ("/api/prompts", "post"): "PromptsOut",
        ("/api/stats", "get"): "StatsOut",
        ("/api/health", "get"): "HealthOut",
    }
    assert {route: returned(*route) for route in expected} == expected
    citation = spec["components"]["schemas"]["CitationOut"]["properties"]
    assert {"n", "quote", "source_file", "quote_start", "quote_end", "passage"} <= set(citation)


def test_typed_answers_are_what_the_cli_prints(client: TestClient, cb: Casebook) -> None:
    from assistant.surfaces.shapes import answer_dict

    got = client.post("/api/ask", json={"question": "bruising in non-mobile babies"}).json()
    assert got == answer_dict(cb.ask("bruising in non-mobile babies"))
    assert client.get("/api/stats").json() == json.loads(json.dumps(cb.stats().as_dict()))
    assert "llm" not in client.get("/api/health").json(), "no model configured: nothing to report"
