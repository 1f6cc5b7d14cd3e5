"""The HTTP API, served with the chat on one port: OpenAI-compatible chat completions that carry their
citations, and Casebook's own routes with the same JSON as the CLI's ``--json``.

    GET  /v1/models                 casebook (and casebook-<backend> with a language model)
    POST /v1/chat/completions       messages → the cited answer; stream: true → server-sent events
    POST /api/ask | /api/search | /api/prompts | /api/briefing (a file) · GET /api/stats | /api/health
    /docs                           OpenAPI documentation of the routes above
    /                               the practitioners' chat (Gradio, mounted into this app)

The answer's [n] markers are in the message content; its citations travel beside it, as a top-level
``citations`` list in the response and in the final stream chunk, so the ``openai`` client and
LangChain's ``ChatOpenAI`` can use Casebook as a model and still reach every citation. Open WebUI gets
them in its own form too (assistant/surfaces/openwebui.py): a ``source`` event per citation in the
stream, a ``sources`` list beside a plain answer; and its title, tags and follow-up prompts get a short
JSON reply instead of an answer. Filters go in an extra body field ``filters`` with the CLI's names
and the same validation.

Every error is JSON ``{"error": {"message", "type", "code"}}`` with its status: 400 bad input, 401 no
or wrong key (``CASEBOOK_API_KEY``, Bearer), 404, 413 body too large, 422 schema, 429 too many waiting
(with ``Retry-After``), 503 index not ready, 504 the answer took longer than the per-request timeout. At
most ``max_concurrent`` answers are computed at once and ``max_waiting`` more wait; a timed-out answer's
thread finishes in the background but its slot is released only when it does, so a slow model cannot
pile up work.

Input is bounded at the door (assistant/surfaces/bounds.py: body size however it is framed, Unicode
text, history, years). ``/docs`` loads Swagger UI from this server (fastapi-offline), not a CDN.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.casebook import Casebook
from assistant.surfaces.bounds import (
    MAX_BODY_BYTES,
    MAX_CHAT_BODY_BYTES,
    MAX_HISTORY_CHARS,
    MAX_TURN_CHARS,
    MAX_TURNS,
    YEARS,
    BodyLimit,
    RequestIn,
    check_history,
    check_year,
    error_response,
    recent_turns,
    schema_problem,
)
from assistant.surfaces.completions import chunks, completion
from assistant.surfaces.handout import write_briefing
from assistant.surfaces.openwebui import Task, read_task, source_events
from assistant.surfaces.shapes import (
    AnswerOut,
    PromptsOut,
    SearchOut,
    StatsOut,
    answer_out,
    citation_dict,
    message_text,
    prompts_out,
    search_out,
)
from records.errors import CasebookError, GenerationError, IndexNotReady, InputError
from records.text import slugify
from records.types import Answer, Filters

T = TypeVar("T")
# Swagger UI's files, under /api/ with the routes they document: the chat's login (server.py) guards the
# other paths, and the documentation must load without it.
DOCS_ASSETS = "/api/docs-assets"
RETRY_AFTER_S = 5  # a full queue of extractive answers drains in a few seconds; a model's take longer


class HealthOut(BaseModel):
    """``GET /api/health``: the server is up; which model answers; with ``llamacpp`` its process."""

    status: str
    model: str
    years: list[int] = Field(description="the first and last publication year in the index")
    llm: dict[str, Any] | None = Field(default=None, description="the model: backend, and its process (pid, alive, restarts)")
    index: dict[str, int] = Field(
        default_factory=dict, description="the index this worker serves: its generation and chunk count (workers agree when these do)"
    )


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


def bearer_matches(header: str, api_key: str) -> bool:
    """Whether an Authorization header is ``Bearer <api_key>`` (the API's check, and /mcp's)."""
    scheme, _, token = header.partition(" ")
    # Compared as bytes: a header is latin-1 and may hold what compare_digest refuses in a str.
    return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode("latin-1"), api_key.encode())


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year_from: int | None = Field(default=None, description=f"a year from {YEARS[0]} to {YEARS[1]}")
    year_to: int | None = Field(default=None, description=f"a year from {YEARS[0]} to {YEARS[1]}")
    nation: list[str] = []
    age_band: list[str] = []
    outcome: list[str] = []
    keyword: list[str] = []
    kind: list[str] = []
    area: list[str] = []

    @field_validator("year_from", "year_to")
    @classmethod
    def _a_year(cls, year: int | None) -> int | None:
        return check_year(year)

    def to_filters(self) -> Filters:
        return Filters(
            year_from=self.year_from,
            year_to=self.year_to,
            nation=tuple(self.nation),
            age_band=tuple(self.age_band),
            outcome=tuple(self.outcome),
            keyword=tuple(self.keyword),
            kind=tuple(self.kind),
            area=tuple(self.area),
        )


class AskIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    question: str
    filters: FiltersIn = FiltersIn()
    history: list[str] = Field(
        default=[],
        description=(
            f"earlier questions of the conversation, oldest first: at most {MAX_TURNS}, each at most "
            f"{MAX_TURN_CHARS:,} characters, {MAX_HISTORY_CHARS:,} in all"
        ),
    )

    @field_validator("history")
    @classmethod
    def _bounded(cls, history: list[str]) -> list[str]:
        return check_history(history)


class SearchIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    query: str
    k: int = Field(10, ge=1, le=50)
    filters: FiltersIn = FiltersIn()


class PromptsIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    theme: str
    n: int = Field(5, ge=1, le=20)
    filters: FiltersIn = FiltersIn()


class BriefingIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    theme: str
    format: Literal["md", "docx", "pdf"] = "md"
    filters: FiltersIn = FiltersIn()


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatIn(RequestIn):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, … are accepted and ignored
    model: str = "casebook"
    messages: list[Message]
    stream: bool = False
    filters: FiltersIn = FiltersIn()
    source_events: bool = Field(True, description="also send each citation as Open WebUI's source record (events in a stream)")


class Limiter:
    """At most ``running`` calls at once and ``waiting`` more queued; each call gets ``timeout_s``."""

    def __init__(self, running: int, waiting: int, timeout_s: float) -> None:
        self._slots = threading.BoundedSemaphore(running)
        self._admitted = 0
        self._capacity = running + waiting
        self._guard = threading.Lock()
        self.timeout_s = timeout_s

    async def run(self, fn: Callable[[], T]) -> T:
        with self._guard:
            if self._admitted >= self._capacity:
                raise ApiError(
                    429,
                    f"too many requests are waiting for an answer; retry in {RETRY_AFTER_S} s",
                    "rate_limited",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            self._admitted += 1

        def work() -> T:
            with self._slots:  # released when the work ends, even after the caller gave up waiting
                try:
                    return fn()
                finally:
                    with self._guard:
                        self._admitted -= 1

        future = asyncio.get_running_loop().run_in_executor(None, work)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise ApiError(504, f"the answer took longer than {self.timeout_s:g} s; try a narrower question", "timeout") from None


def build_api(
    cb: Casebook,
    *,
    api_key: str = "",
    max_concurrent: int = 4,
    max_waiting: int = 32,
    timeout_s: float = 120.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_chat_body_bytes: int = MAX_CHAT_BODY_BYTES,
) -> FastAPI:
    """The FastAPI app with every API route (the chat is mounted by ``serve``)."""
    app = FastAPIOffline(  # /docs and /redoc load their scripts from this server: they work offline
        title="Casebook API",
        version="1",
        description="Cited answers from UK child safeguarding case reviews. Every [n] in an answer resolves to a citation.",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from Swagger's online validator
        static_url=DOCS_ASSETS,
    )
    limiter = Limiter(max_concurrent, max_waiting, timeout_s)
    served = "casebook" if cb.llm.backend == "extractive" else f"casebook-{cb.llm.backend}"
    app.add_middleware(BodyLimit, limit=max_body_bytes, limits={"/v1/chat/completions": max_chat_body_bytes})

    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(CasebookError)
    async def on_casebook_error(_: Request, exc: CasebookError) -> JSONResponse:
        if isinstance(exc, IndexNotReady):
            return error_response(503, str(exc), "index_not_ready")
        if isinstance(exc, GenerationError):
            return error_response(502, str(exc), "model_error")
        if isinstance(exc, InputError):
            return error_response(400, str(exc), "bad_input")
        return error_response(500, str(exc), "casebook_error")

    @app.exception_handler(RequestValidationError)
    async def on_schema(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "the request does not match the schema: " + "; ".join(map(schema_problem, exc.errors())), "schema")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 413: "body_too_large"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, str(exc.detail), code, exc.headers)

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"unexpected error ({type(exc).__name__}); the server log has the details", "internal")

    def authorised(request: Request) -> None:
        if not api_key:
            return
        if not bearer_matches(request.headers.get("authorization", ""), api_key):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <CASEBOOK_API_KEY>'", "unauthorised")

    guard = [Depends(authorised)]

    @app.get("/api/health", dependencies=guard, tags=["casebook"], response_model_exclude_none=True)
    async def health() -> HealthOut:
        model = cb.model_status()  # the local model's process may have been replaced; the server is still ok
        catalog = cb.retriever.catalog
        index = {"generation": catalog.stamp.generation, "chunks": catalog.chunk_count}
        return HealthOut(status="ok", model=served, years=cb.years[:1] + cb.years[-1:], llm=model, index=index)

    @app.get("/api/stats", dependencies=guard, tags=["casebook"])
    async def stats() -> StatsOut:
        return StatsOut.model_validate((await limiter.run(cb.stats)).as_dict())

    @app.post("/api/ask", dependencies=guard, tags=["casebook"])
    async def ask(body: AskIn) -> AnswerOut:
        answer = await limiter.run(lambda: cb.ask(body.question, body.filters.to_filters(), history=body.history))
        return answer_out(answer)

    @app.post("/api/search", dependencies=guard, tags=["casebook"])
    async def search(body: SearchIn) -> SearchOut:
        result = await limiter.run(lambda: cb.search_scored(body.query, k=body.k, filters=body.filters.to_filters()))
        return search_out(body.query, result)

    @app.post("/api/prompts", dependencies=guard, tags=["casebook"])
    async def prompts(body: PromptsIn) -> PromptsOut:
        p = await limiter.run(lambda: cb.prompts(body.theme, body.filters.to_filters(), n=body.n))
        return prompts_out(p.theme, p.notice, [(line.text, line.cites) for line in p.lines], p.citations)

    @app.post("/api/briefing", dependencies=guard, tags=["casebook"], response_class=FileResponse)
    async def briefing(body: BriefingIn) -> FileResponse:
        def make() -> Path:
            b = cb.briefing(body.theme, body.filters.to_filters())
            folder = cb.settings.cache_dir / "handouts"  # beside the chat's downloads, under CASEBOOK_HOME
            folder.mkdir(parents=True, exist_ok=True)
            name = f"briefing-{slugify(body.theme)[:40] or 'theme'}-{uuid.uuid4().hex[:8]}.{body.format}"
            return write_briefing(b, body.format, folder / name)

        path = await limiter.run(make)
        media = {"md": "text/markdown", "pdf": "application/pdf"}.get(
            body.format, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        return FileResponse(path, media_type=media, filename=path.name)

    @app.get("/v1/models", dependencies=guard, tags=["openai"])
    async def models() -> dict[str, Any]:
        names = ["casebook"] if served == "casebook" else ["casebook", served]
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "casebook"} for n in names]}

    @app.post("/v1/chat/completions", dependencies=guard, tags=["openai"], response_model=None)
    async def chat_completions(body: ChatIn) -> Any:
        if body.model not in ("casebook", served):
            raise ApiError(
                404,
                f"unknown model {body.model!r}; expected one of: casebook" + (f", {served}" if served != "casebook" else ""),
                "model_not_found",
            )
        users = [m.text() for m in body.messages if m.role == "user"]
        if not users or not users[-1].strip():
            raise ApiError(400, "messages must end with a user message that has text", "bad_input")
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        task = read_task(users)  # a chat front end's title, tags or follow-up prompt: a JSON reply, no answer
        if task is not None:
            text, extra, events = task.reply(), _extras(task), []
        else:
            question, history = users[-1], recent_turns(users[:-1])
            answer = await limiter.run(lambda: cb.ask(question, body.filters.to_filters(), history=history))
            text, extra, events = message_text(answer), _extras(answer), source_events(answer) if body.source_events else []
        if not body.stream:
            if body.source_events:  # Open WebUI reads a plain response's sources from here
                extra["sources"] = [event["data"] for event in events]
            return completion(ident, created, body.model, users[-1], text, extra)
        return StreamingResponse(chunks(ident, created, body.model, text, extra, events), media_type="text/event-stream")

    for prefix in ("api", "v1"):  # unknown routes under the API answer JSON, not the chat's HTML page

        @app.api_route(f"/{prefix}/{{rest:path}}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
        async def not_found(rest: str, request: Request) -> JSONResponse:
            return error_response(404, f"no route {request.method} {request.url.path}; see /docs", "not_found")

    return app


def _extras(reply: Answer | Task) -> dict[str, Any]:
    """What travels beside the message: citations, the refusal/notice flags a client may show, and
    which task prompt was answered (``task``, None for a question)."""
    if isinstance(reply, Task):
        flags: dict[str, Any] = {"refused": False, "safety_notice": None, "read_as": [], "inferred_labels": [], "task": reply.kind}
        return {"citations": [], "casebook": flags}
    return {
        "citations": [citation_dict(c) for c in reply.citations],
        "casebook": {
            "refused": reply.refused,
            "safety_notice": reply.safety_notice,
            "read_as": list(reply.read_as),
            "inferred_labels": list(reply.inferred_labels),
            "task": None,
        },
    }
