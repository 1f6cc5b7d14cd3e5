"""What the HTTP API reads, bounded at the door.

A body is counted as it arrives, whatever its framing (a declared Content-Length or chunked), and
refused with 413 past its limit (``BodyLimit``); every string of a request, at any depth, must be
Unicode (``RequestIn``: a lone surrogate escape is valid JSON but not text); a conversation's earlier
questions are bounded per turn, in number and in total (``check_history`` refuses, for ``/api/ask``;
``recent_turns`` keeps the most recent that fit, for chat clients that resend a whole conversation);
a filter's years lie in YEARS. Every refusal is the API's JSON error (``error_response``).

Consumes ASGI messages and decoded JSON; produces JSON error responses and checked values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, model_validator
from starlette import types as asgi
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.question.door import MAX_QUESTION_CHARS

MAX_BODY_BYTES = 64 * 1024
# Clients of chat completions resend every earlier turn, Casebook's cited answers included, so a long
# conversation outgrows 64 KB; it is still answered (its oldest turns dropped by ``recent_turns``).
MAX_CHAT_BODY_BYTES = 256 * 1024
# Bounds no real conversation reaches: the chat's own history is its questions of at most
# MAX_QUESTION_CHARS (a follow-up as searched also carries its earlier topic, hence twice that), and
# only the last one is read, to resolve a follow-up.
MAX_TURNS = 100
MAX_TURN_CHARS = 2 * MAX_QUESTION_CHARS
MAX_HISTORY_CHARS = 40_000
YEARS = (1900, 2100)  # a filter's years; the reviews are from this century, the bound only stops nonsense


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit:,} bytes; send a shorter request")


def error_response(status: int, message: str, code: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")  # an error must never fail to be sent
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status, headers=headers)


class BodyLimit:
    """Answers 413 once a request body passes its limit, whatever its framing: a declared Content-Length
    before anything is read, a chunked body as its bytes arrive, so at most the limit plus one read is
    ever held. ``limits``: a larger or smaller limit for some paths."""

    def __init__(self, app: asgi.ASGIApp, limit: int, limits: dict[str, int]) -> None:
        self.app, self.limit, self.limits = app, limit, limits

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.limit)
        size = Headers(scope=scope).get("content-length", "")
        if size.isdigit() and int(size) > limit:
            message = f"request body of {size} bytes is over the limit of {limit:,}; send a shorter request"
            return await error_response(413, message, "body_too_large")(scope, receive, send)
        seen, started = 0, False

        async def counted() -> asgi.Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)  # FastAPI passes an HTTPException on to on_http: a JSON 413
            return message

        async def sent(message: asgi.Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sent)
        except BodyTooLarge as exc:  # read outside a route (a mounted app's middleware): answered here
            if started:
                raise
            await error_response(413, str(exc.detail), "body_too_large")(scope, receive, send)


def _surrogate_at(value: Any, where: str = "") -> str | None:
    """Where in a decoded JSON value a string holds a lone surrogate (``"\\ud800"`` is valid JSON but
    not Unicode, and fails later, when the text is encoded); None when there is none."""
    if isinstance(value, str):
        return None if value.isascii() or _encodes(value) else where or "body"
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(str(key)):
                return f"a key in {where or 'body'}"
            if (found := _surrogate_at(item, f"{where}.{key}" if where else str(key))) is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _surrogate_at(item, f"{where}.{i}" if where else str(i))) is not None:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class RequestIn(BaseModel):
    """A request body: every string in it, at any depth, must be Unicode text."""

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        where = _surrogate_at(data)
        if where is not None:
            raise ValueError(
                f"{where}: expected Unicode text, got a lone surrogate escape (\\ud800 to \\udfff); "
                "send the text as UTF-8, or escape a character beyond U+FFFF as a pair"
            )
        return data


def check_year(year: int | None) -> int | None:
    if year is not None and not YEARS[0] <= year <= YEARS[1]:
        shown = str(year) if len(str(year)) <= 12 else f"a number of {len(str(year))} digits"
        raise ValueError(f"expected a year from {YEARS[0]} to {YEARS[1]}, got {shown}")
    return year


def check_history(history: list[str]) -> list[str]:
    """``/api/ask``'s earlier questions, refused past MAX_TURNS, MAX_TURN_CHARS or MAX_HISTORY_CHARS."""
    hint = "send only the most recent questions (the last one is what a follow-up is read against)"
    if len(history) > MAX_TURNS:
        raise ValueError(f"expected at most {MAX_TURNS} earlier questions, got {len(history)}; {hint}")
    for i, turn in enumerate(history):
        if len(turn) > MAX_TURN_CHARS:
            raise ValueError(
                f"expected each earlier question to be at most {MAX_TURN_CHARS:,} characters, got {len(turn):,} "
                f"in item {i}; send the questions as asked, not the answers"
            )
    if (total := sum(map(len, history))) > MAX_HISTORY_CHARS:
        raise ValueError(f"expected at most {MAX_HISTORY_CHARS:,} characters of earlier questions, got {total:,}; {hint}")
    return history


def schema_problem(error: Any) -> str:
    """One schema error in words: where, then what; a validator's own message without pydantic's prefix."""
    where = ".".join(str(x) for x in error.get("loc", ()) if x != "body")
    cause = (error.get("ctx") or {}).get("error")
    said = str(cause) if error.get("type") == "value_error" and cause else str(error.get("msg"))
    return f"{where}: {said}" if where else said


def recent_turns(earlier: Sequence[str]) -> list[str]:
    """The most recent of a chat's earlier user messages that fit MAX_TURNS, MAX_TURN_CHARS and
    MAX_HISTORY_CHARS, oldest first. Older ones are dropped, not refused: an OpenAI client resends the
    whole conversation and cannot be told to shorten it. A message too long to be a question ends the
    history there, so a follow-up is never read against a question older than the one it follows."""
    kept: list[str] = []
    total = 0
    for text in reversed(earlier):
        total += len(text)
        if len(kept) == MAX_TURNS or len(text) > MAX_TURN_CHARS or total > MAX_HISTORY_CHARS:
            break
        kept.append(text)
    return kept[::-1]
