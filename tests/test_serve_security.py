"""What the served port lets in, on a real server (uvicorn on a free loopback port, over the hand-written
fixture index): with an API key and no chat login the chat asks for a login whose password is the key;
with a login, every route of the chat that can answer, upload, serve a file or show its config wants the
signed-in session; wrong passwords from one address are slowed down. ``casebook serve`` itself is run
once, to read what it says it guards. The throttle's window has a fast test with a clock of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.casebook import Casebook
from assistant.surfaces.server import LOGIN_FAILURES, LOGIN_WINDOW_S, LoginThrottle, describe_guard
from records.settings import Settings
from tests.helpers.corpus import COSINE_RELEVANCE
from tests.helpers.fakes import FakeEmbedder
from tests.helpers.net import free_port, wait_for_http

KEY = "test-key-123"
LOGIN = ("ann", "correct horse")
QUESTION = "What did reviews say about bruising in non-mobile babies?"
# Every route of the chat a stranger could use: answers, uploads, files, config, and the ones Gradio's own
# login leaves open (cancelling and feeding other sessions' events, startup events, session heartbeats).
GRADIO_ROUTES = [
    ("GET", "/config"),
    ("GET", "/gradio_api/info"),
    ("GET", "/gradio_api/openapi.json"),
    ("POST", "/gradio_api/queue/join"),
    ("GET", "/gradio_api/queue/data?session_hash=s"),
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/upload_progress?upload_id=u"),
    ("GET", "/gradio_api/file=/etc/hostname"),
    ("GET", "/gradio_api/file//etc/hostname"),
    ("POST", "/gradio_api/call/v2/respond"),
    ("POST", "/gradio_api/run/predict"),
    ("POST", "/gradio_api/cancel"),
    ("POST", "/gradio_api/reset"),
    ("POST", "/gradio_api/stream/e"),
    ("GET", "/gradio_api/startup-events"),
    ("GET", "/gradio_api/heartbeat/s"),
    ("GET", "/gradio_api/app_id"),
    ("GET", "/gradio_api/runs"),
    ("GET", "/gradio_api/run-history/buckets"),
    ("GET", "/monitoring"),
]


@pytest.fixture(scope="module")
def cb(fixture_index: Settings) -> Casebook:
    return Casebook(fixture_index, embedder=FakeEmbedder())


def _serve(cb: Casebook, **options: Any) -> Iterator[str]:
    from assistant.surfaces.server import serve

    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False, **options)
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.fixture(scope="module")
def keyed(cb: Casebook) -> Iterator[str]:
    yield from _serve(cb, api_key=KEY)


@pytest.fixture(scope="module")
def login(cb: Casebook) -> Iterator[str]:
    yield from _serve(cb, auth=LOGIN)


def _status(base: str, method: str, path: str, **options: Any) -> int:
    """The status alone: streamed, so a heartbeat that would stay open does not hang the test."""
    with httpx.stream(method, f"{base}{path}", timeout=30, **options) as r:
        return r.status_code


def _client(address: str) -> httpx.Client:
    """A client that connects from ``address`` (any 127.x address reaches the loopback server), so each
    test has a throttle count of its own."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _sign_in(base: str, user: str, password: str) -> httpx.Cookies:
    r = httpx.post(f"{base}/login", data={"username": user, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return r.cookies


def _ask(base: str, cookies: httpx.Cookies, question: str) -> str:
    """The chat's answer event stream for ``question``, the way the page asks: join the queue, read the data."""
    config = httpx.get(f"{base}/config", cookies=cookies, timeout=30).json()
    ask = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "ask")
    fn = next(d["id"] for d in config["dependencies"] if [ask, "click"] in d["targets"])
    data = [question, [], {"questions": []}, "any", "any", [], [], [], [], [], []]
    body = {"data": data, "fn_index": fn, "session_hash": "test-session", "event_data": None, "trigger_id": ask}
    joined = httpx.post(f"{base}/gradio_api/queue/join", json=body, cookies=cookies, timeout=30)
    assert joined.status_code == 200, joined.text
    lines = []
    with httpx.stream("GET", f"{base}/gradio_api/queue/data?session_hash=test-session", cookies=cookies, timeout=60) as r:
        for line in r.iter_lines():
            lines.append(line)
            if "process_completed" in line:
                break
    return "\n".join(lines)


@pytest.mark.slow
def test_an_api_key_alone_makes_the_chat_ask_for_a_login(keyed: str) -> None:
    refused = {path: _status(keyed, method, path) for method, path in GRADIO_ROUTES}
    assert refused == {path: 401 for _, path in GRADIO_ROUTES}
    page = httpx.get(f"{keyed}/", timeout=30)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert httpx.post(f"{keyed}/login", data={"username": "casebook", "password": "nope"}, timeout=30).status_code == 400
    cookies = _sign_in(keyed, "casebook", KEY)
    assert "[1]" in _ask(keyed, cookies, QUESTION)
    # The API keeps its own door: the key as a Bearer token, never the chat's cookie.
    assert httpx.get(f"{keyed}/v1/models", cookies=cookies, timeout=30).status_code == 401
    assert httpx.get(f"{keyed}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).status_code == 200


@pytest.mark.slow
def test_a_chat_login_guards_every_route_of_the_chat(login: str) -> None:
    refused = {path: _status(login, method, path) for method, path in GRADIO_ROUTES}
    assert refused == {path: 401 for _, path in GRADIO_ROUTES}
    forged = httpx.Cookies({name: "forged" for name in _sign_in(login, *LOGIN)})
    assert _status(login, "GET", "/config", cookies=forged) == 401
    # What the login page itself loads stays open, or nobody could sign in.
    page = httpx.get(f"{login}/", timeout=30)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert httpx.get(f"{login}/theme.css", timeout=30).status_code == 200
    # Without an API key the API is open, as before: the login is the chat's.
    assert httpx.get(f"{login}/api/health", timeout=30).status_code == 200


@pytest.mark.slow
def test_signed_in_the_chat_answers_and_serves_its_own_downloads(login: str) -> None:
    cookies = _sign_in(login, *LOGIN)
    assert httpx.get(f"{login}/config", cookies=cookies, timeout=30).status_code == 200
    stream = _ask(login, cookies, QUESTION)
    assert "[1]" in stream
    completed = json.loads(next(line for line in stream.splitlines() if "process_completed" in line).removeprefix("data: "))
    urls = [f["url"] for f in _files(completed["output"])]
    assert urls, completed
    download = urls[0].split("/gradio_api/", 1)[1]
    assert httpx.get(f"{login}/gradio_api/{download}", cookies=cookies, timeout=30).status_code == 200
    assert httpx.get(f"{login}/gradio_api/{download}", timeout=30).status_code == 401


def _files(value: Any) -> list[dict[str, Any]]:
    """Every file record (a dict with a ``url``) in a Gradio output, however deeply nested."""
    if isinstance(value, dict):
        return ([value] if isinstance(value.get("url"), str) and "/file=" in value["url"] else []) + [
            f for v in value.values() for f in _files(v)
        ]
    if isinstance(value, list):
        return [f for v in value for f in _files(v)]
    return []


@pytest.mark.slow
def test_wrong_passwords_are_slowed_down_per_address(login: str) -> None:
    wrong = {"username": LOGIN[0], "password": "guess"}
    with _client("127.0.0.2") as guesser, _client("127.0.0.3") as other:
        assert [guesser.post(f"{login}/login", data=wrong).status_code for _ in range(LOGIN_FAILURES)] == [400] * LOGIN_FAILURES
        slowed = guesser.post(f"{login}/login", data=wrong)
        assert slowed.status_code == 429, slowed.text
        assert 0 < int(slowed.headers["retry-after"]) <= LOGIN_WINDOW_S
        assert "try again in" in slowed.json()["detail"]
        # While it waits, even the right password is refused, or guessing would go on at full speed.
        assert guesser.post(f"{login}/login", data=dict(zip(("username", "password"), LOGIN, strict=True))).status_code == 429
        assert other.post(f"{login}/login", data=dict(zip(("username", "password"), LOGIN, strict=True))).status_code == 200


@pytest.mark.slow
def test_a_successful_login_clears_the_count(login: str) -> None:
    wrong = {"username": LOGIN[0], "password": "typo"}
    right = dict(zip(("username", "password"), LOGIN, strict=True))
    with _client("127.0.0.4") as practitioner:
        assert {practitioner.post(f"{login}/login", data=wrong).status_code for _ in range(LOGIN_FAILURES - 1)} == {400}
        assert practitioner.post(f"{login}/login", data=right).status_code == 200
        assert {practitioner.post(f"{login}/login", data=wrong).status_code for _ in range(LOGIN_FAILURES)} == {400}
        assert practitioner.post(f"{login}/login", data=wrong).status_code == 429


def test_the_throttle_forgets_failures_older_than_its_window() -> None:
    now = [1000.0]
    throttle = LoginThrottle(limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_s("a") == 0
        throttle.failed("a")
        now[0] += 10
    assert throttle.wait_s("a") == pytest.approx(30) and throttle.wait_s("b") == 0
    now[0] += 30  # the first failure is now a window old
    assert throttle.wait_s("a") == 0
    throttle.failed("a")  # the 2nd, 3rd and 4th are within one window: wait until the 2nd is a window old
    assert throttle.wait_s("a") == pytest.approx(10)
    throttle.succeeded("a")
    assert throttle.wait_s("a") == 0


@pytest.mark.parametrize(
    ("auth", "api_key", "says"),
    [
        (LOGIN, KEY, ["Bearer", "chat login (user 'ann')"]),
        (None, KEY, ["Bearer", "user 'casebook'", "the API key as password", "CASEBOOK_AUTH_USERNAME"]),
        (LOGIN, "", ["chat login (user 'ann')", "the API is open", "CASEBOOK_API_KEY"]),
        (None, "", ["nothing is guarded", "CASEBOOK_API_KEY"]),
    ],
)
def test_the_start_up_message_says_what_is_guarded(auth: tuple[str, str] | None, api_key: str, says: list[str]) -> None:
    message = describe_guard(auth, api_key)
    assert all(s in message for s in says), message


@pytest.mark.slow
def test_casebook_serve_with_a_key_says_the_chat_asks_for_it(fixture_index: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CASEBOOK_HOME": str(fixture_index.home),
        "CASEBOOK_RELEVANCE_MODEL": str(COSINE_RELEVANCE),
        "CASEBOOK_API_KEY": KEY,
    }
    env.pop("CASEBOOK_AUTH_USERNAME", None)
    env.pop("CASEBOOK_AUTH_PASSWORD", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.surfaces.cli", "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", proc)
            assert httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).status_code == 401
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    said = log.read_text()
    assert "user 'casebook'" in said and "the API key as password" in said and "Bearer" in said, said


def test_serving_beyond_this_machine_with_a_login_but_no_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.surfaces.cli import main

    monkeypatch.delenv("CASEBOOK_API_KEY", raising=False)
    monkeypatch.setenv("CASEBOOK_AUTH_USERNAME", LOGIN[0])
    monkeypatch.setenv("CASEBOOK_AUTH_PASSWORD", LOGIN[1])
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without CASEBOOK_API_KEY:" in err and "--allow-open" in err
