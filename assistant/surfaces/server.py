"""``casebook serve``: one server, one port, one Casebook: the chat at ``/`` (Gradio, mounted into the
API's FastAPI app), the HTTP API beside it (assistant/surfaces/api.py) and the MCP tools at ``/mcp``
(assistant/surfaces/mcp.py), run by uvicorn.

Consumes a ``Casebook`` and the serving options; produces a running ``Server`` (``close()`` stops it
when it was started without blocking, as the tests do).

What the port lets in: the API routes (``/api/*``, ``/v1/*``) and ``/mcp`` want the API key as a Bearer token when
one is set. A browser cannot send that header, so the chat has a login: the one configured, else, when
only an API key is set, user ``casebook`` with the key as password; an organisation that sets a key
finds nothing on the port open without a credential. With a login, ``ChatDoor`` refuses every route of
the chat but the login page itself without the signed-in session (Gradio's own login leaves some open:
startup events, heartbeats, cancelling and feeding events), and slows down wrong passwords per client
address. The trade-off: behind a reverse proxy that does not pass the client's address on
(``X-Forwarded-For`` from 127.0.0.1), all clients share one count, and a guesser can make everyone wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.casebook import Casebook
from assistant.surfaces.api import build_api
from assistant.surfaces.chat import build_app
from assistant.surfaces.mcp import MCP_PATH, mount_mcp
from assistant.surfaces.render import CSS

LOOPBACK = ("127.0.0.1", "localhost", "::1")
KEY_USER = "casebook"  # the chat's user name when the API key is its password
LOGIN_FAILURES = 5  # wrong passwords from one address within LOGIN_WINDOW_S, then it waits
LOGIN_WINDOW_S = 300.0
LOGIN_PATHS = ("/login", "/login/")
# What the login page loads before anyone has signed in (checked in a browser); every other route of the
# chat needs the session. The API's own routes pass through to their Bearer check.
LOGIN_PAGE = frozenset({"/", *LOGIN_PATHS, "/logout", "/theme.css", "/favicon.ico", "/manifest.json", "/robots.txt"})
LOGIN_ASSETS = ("/assets/", "/static/")
API_PATHS = ("/api/", "/v1/")
API_PAGES = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", MCP_PATH})  # /mcp: its own Bearer check


def chat_login(auth: tuple[str, str] | None, api_key: str) -> tuple[str, str] | None:
    """The chat's login: the one configured, else with an API key user ``casebook`` and the key."""
    if auth is not None:
        return auth
    return (KEY_USER, api_key) if api_key else None


def describe_guard(auth: tuple[str, str] | None, api_key: str) -> str:
    """What the port guards and with what, for the start-up message."""
    if not api_key and auth is None:
        return "nothing is guarded: the chat and the API are open to anyone who can reach this address (set CASEBOOK_API_KEY to guard both)"
    if auth is None:
        chat = (
            f"the chat and its files need a login: user '{KEY_USER}', the API key as password "
            "(set CASEBOOK_AUTH_USERNAME/PASSWORD to give the chat a login of its own)"
        )
    else:
        chat = f"the chat and its files need the chat login (user '{auth[0]}')"
    slowed = f"after {LOGIN_FAILURES} wrong passwords within {LOGIN_WINDOW_S / 60:g} minutes an address must wait"
    if not api_key:
        return f"{chat}; {slowed}; the API is open to anyone who can reach this address (set CASEBOOK_API_KEY to guard it)"
    return f"the API needs 'Authorization: Bearer <CASEBOOK_API_KEY>'; {chat}; {slowed}"


class LoginThrottle:
    """Failed chat logins per client address: after ``limit`` failures within ``window_s`` seconds the
    address waits until the oldest of them is ``window_s`` old; a successful login clears its count."""

    def __init__(self, limit: int = LOGIN_FAILURES, window_s: float = LOGIN_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = {}

    def wait_s(self, address: str) -> float:
        """Seconds before ``address`` may try again; 0 when it may now."""
        failures = self._failures.get(address)
        if failures is None or len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[0] + self.window_s - self.clock())

    def failed(self, address: str) -> None:
        now = self.clock()
        if len(self._failures) > 10_000:  # many addresses guessing: forget the ones whose window has passed
            self._failures = {a: f for a, f in self._failures.items() if f[-1] + self.window_s > now}
        self._failures.setdefault(address, deque(maxlen=self.limit)).append(now)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


class ChatDoor:
    """ASGI middleware in front of the chat when it has a login: the login page and the API pass; every
    other route wants the session Gradio's login set; each login attempt counts as a failure until it
    succeeds (so a burst of attempts in flight cannot outrun the count)."""

    def __init__(self, app: ASGIApp, *, chat: Any, throttle: LoginThrottle) -> None:
        self.app, self.chat, self.throttle = app, chat, throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(API_PATHS) or path in API_PAGES:
            await self.app(scope, receive, send)
        elif path in LOGIN_PATHS and scope["method"] == "POST":
            await self._login(scope, receive, send)
        elif path in LOGIN_PAGE or path.startswith(LOGIN_ASSETS) or self._signed_in(scope):
            await self.app(scope, receive, send)
        else:
            body = {"detail": {"error": "Not authenticated: sign in to the chat at / first", "auth_message": None}}
            await JSONResponse(body, status_code=401)(scope, receive, send)

    def _signed_in(self, scope: Scope) -> bool:
        # Gradio keeps its sessions in App.tokens, keyed by the token in either of its two cookies.
        cookies = HTTPConnection(scope).cookies
        cookie_id = self.chat.cookie_id
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return token is not None and self.chat.tokens.get(token) is not None

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = HTTPConnection(scope).client
        address = client.host if client else ""
        wait = self.throttle.wait_s(address)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            body = {"detail": f"too many wrong passwords from this address; try again in {seconds} s"}
            await JSONResponse(body, status_code=429, headers={"Retry-After": str(seconds)})(scope, receive, send)
            return
        self.throttle.failed(address)
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            self.throttle.succeeded(address)


class Server:
    def __init__(self, server: Any, thread: threading.Thread | None, app: Any) -> None:
        self._server, self._thread, self.app = server, thread, app

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def serve(
    cb: Casebook,
    *,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    api_key: str = "",
    block: bool = True,
    **limits: Any,
) -> Server:
    import gradio as gr
    import uvicorn
    from gradio.routes import App

    api = build_api(cb, api_key=api_key, **limits)
    mount_mcp(api, cb, api_key=api_key, host=host)  # before the chat takes "/"
    blocks = build_app(cb)
    login = chat_login(auth, api_key)
    # No run history: it would keep questions in the browser, and its routes can reach Hugging Face.
    app = gr.mount_gradio_app(
        api, blocks, path="/", auth=login, css=CSS, footer_links=[], show_error=False, run_history=False, mcp_server=False
    )
    if login is not None:
        chat = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), App))
        app.add_middleware(ChatDoor, chat=chat, throttle=LoginThrottle())
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    if block:
        server.run()
        return Server(server, None, app)
    thread = threading.Thread(target=server.run, daemon=True, name="casebook-server")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.05)
    return Server(server, thread, app)
