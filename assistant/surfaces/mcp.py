"""Casebook as an MCP server (the official ``mcp`` SDK, v2): the facade the CLI and the API call, as
four tools a model can use.

    ask      a question (+ filters, earlier questions) → the cited answer            (AnswerOut)
    search   a query (+ filters, k) → the sources found, each with its best passage   (SearchOut)
    reviews  filters → how many reviews match, exactly, from their details, listed     (ReviewsOut)
    review   a source id (or the source's name) → its summary, learning, recommendations (ReviewOut)

Two transports. ``casebook mcp`` serves stdio (``run_stdio``): while it serves, the SDK points fd 1 at
stderr, and the index and the model are opened inside that (the server's lifespan), so nothing but the
protocol reaches stdout. ``casebook serve`` mounts streamable HTTP at ``/mcp`` on its one port
(``mount_mcp``), behind ``CASEBOOK_API_KEY`` as a Bearer token when one is set (the API's own check,
``bearer_matches``), and runs the session manager in the app's lifespan.

Consumes a ``Casebook``; produces an ``MCPServer`` whose tools take typed arguments (pydantic) and return
the typed shapes of assistant/surfaces/shapes.py as structured content (and, as the protocol asks, the
same JSON as text). Filters are checked by the facade, as for the CLI: an unknown value is refused with
the valid ones named, never widened. Errors Casebook expects (``CasebookError``) become tool errors
carrying their message, in one place (``_called``); anything else is the SDK's generic tool error, its
traceback in the log (stderr), never sent. At most ``max_concurrent`` tool calls compute at once; the
others wait their turn.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import AfterValidator, Field
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.casebook import Casebook
from assistant.surfaces import api
from assistant.surfaces.api import bearer_matches
from assistant.surfaces.bounds import MAX_HISTORY_CHARS, MAX_TURN_CHARS, MAX_TURNS, check_history, error_response
from assistant.surfaces.shapes import (
    AnswerOut,
    SearchOut,
    Shape,
    answer_out,
    chunk_fields,
    describe_filters,
    search_out,
)
from records.errors import CasebookError, InputError
from records.types import AGE_BANDS, KINDS, NATIONS, OUTCOMES, Chunk, Filters

T = TypeVar("T")
MCP_PATH = "/mcp"
MAX_LISTED = 500  # the most reviews one `reviews` call lists (the count is always exact)
REVIEW_SECTIONS = ("summary", "learning", "recommendations")
INSTRUCTIONS = (
    "Cited answers from UK child safeguarding case reviews (NSPCC's national case review repository). "
    "`ask` answers a question; every [n] in its answer resolves to a citation whose quote is the source's exact words: "
    "quote them as they are. When an answer carries a safety_notice, show it first. `search` finds sources, "
    "`reviews` counts and lists reviews by their details, `review` reads one source by its source_id."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
UNAUTHORISED = "missing or wrong API key: send 'Authorization: Bearer <CASEBOOK_API_KEY>'"


class FiltersIn(api.FiltersIn):
    """What the answer, search or listing is restricted to; several values of one filter mean any of them.
    The API's filters (the same checks), each described with its valid values for a model to read."""

    nation: list[str] = Field(default=[], description="any of: " + ", ".join(NATIONS))
    age_band: list[str] = Field(default=[], description="the child's age, any of: " + ", ".join(AGE_BANDS))
    outcome: list[str] = Field(default=[], description="any of: " + ", ".join(OUTCOMES))
    keyword: list[str] = Field(default=[], description="NSPCC keyword labels, e.g. 'domestic abuse', 'neglect' ('keywords' in results)")
    kind: list[str] = Field(default=[], description="any of: " + ", ".join(KINDS))
    area: list[str] = Field(default=[], description="the partnership or area a review names, e.g. 'Norfolk'")


Question = Annotated[str, Field(min_length=1, description="the question, in the user's words")]
History = Annotated[
    list[str],
    AfterValidator(check_history),
    Field(
        description=(
            f"earlier questions of the conversation, oldest first (questions, not answers): at most {MAX_TURNS}, "
            f"each at most {MAX_TURN_CHARS:,} characters, {MAX_HISTORY_CHARS:,} in all. A follow-up such as "
            "'and what did they recommend?' is read against the last one"
        )
    ),
]
Source = Annotated[
    str,
    Field(min_length=1, description="a source_id from `search`, `ask` or `reviews`, or a review's name ('the Kent review of Child H')"),
]
FiltersArg = Annotated[FiltersIn | None, Field(description="restrict to reviews with these details; omit for the whole collection")]


class ListedOut(Shape):
    """One review in a listing: who, when, where, and what it is labelled with."""

    source_id: str = Field(description="pass it to `review` to read the review")
    title: str
    year: int | None
    area: str | None
    kind: str
    nation: str
    age_band: str
    outcome: str
    keywords: list[str]
    report_type: str | None
    url: str | None


class ReviewsOut(Shape):
    """What ``reviews`` returns: the exact count, and the reviews newest first (at most ``limit``)."""

    filters: str | None = Field(description="the filters, in words")
    count: int = Field(description="how many match: exact, from the reviews' own details")
    listed: int = Field(description="how many of them are listed here")
    reviews: list[ListedOut]


class SectionOut(Shape):
    name: str
    text: str = Field(description="the section's passages, each in the source's exact words, joined by a blank line")


class ReviewOut(ListedOut):
    """What ``review`` returns: one source's details (as ``reviews`` lists them) and what it says,
    section by section."""

    heading: str
    source_file: str
    summary: str | None = Field(description="what happened (a case review's summary); null when the source has none")
    learning: str | None = Field(description="the review's learning; null when the source has none")
    recommendations: str | None = Field(description="the review's recommendations; null when the source has none")
    other_sections: list[SectionOut] = Field(description="any other sections (briefings and guides have their own), in order")


def listed_out(first: Chunk) -> ListedOut:
    m = first.meta
    return ListedOut(
        **chunk_fields(first),
        nation=m.nation,
        age_band=m.age_band,
        outcome=m.outcome,
        keywords=list(m.keywords),
        report_type=m.report_type,
        url=m.url,
    )


def review_out(chunks: list[Chunk]) -> ReviewOut:
    """A source from its chunks in order: each section's passages, verbatim, joined by a blank line."""
    sections: dict[str, list[str]] = {}
    for c in chunks:
        sections.setdefault(c.section, []).append(c.text)
    text = {name: "\n\n".join(parts) for name, parts in sections.items()}
    first = chunks[0]
    return ReviewOut(
        **listed_out(first).model_dump(),
        heading=first.heading,
        source_file=first.source_file,
        summary=text.get("summary"),
        learning=text.get("learning"),
        recommendations=text.get("recommendations"),
        other_sections=[SectionOut(name=n, text=t) for n, t in text.items() if n not in REVIEW_SECTIONS],
    )


def source_chunks(cb: Casebook, source: str) -> list[Chunk]:
    """A source's chunks by its id, else by the name a question would give it ("the Norfolk review of
    Child AK", read as ``ask`` reads names); InputError when it is neither, or names several."""
    chunks = cb.chunks_of(source.strip())
    if chunks:
        return chunks
    named = cb.search_scored(source, k=1).named
    if len(named) == 1:
        return cb.chunks_of(named[0].doc_id)
    if named:
        listed = "; ".join(f"{n.doc_id} ({n.heading})" for n in named)
        raise InputError(f"{source!r} names {len(named)} sources: {listed}; pass the source_id of one")
    raise InputError(
        f"no source has the id {source!r}, and it names none; expected a source_id from `search`, `ask` or `reviews`, "
        "or a review's name such as 'the Kent review of Child H'"
    )


def build_mcp(cb: Casebook, *, max_concurrent: int = 4) -> MCPServer:
    """The MCP server over one Casebook: its four tools, and a lifespan that opens the index."""
    slots = threading.BoundedSemaphore(max_concurrent)

    async def _called(fn: Callable[[], T]) -> T:
        """``fn`` in a worker thread, one of at most ``max_concurrent``; Casebook's errors as tool errors."""

        def work() -> T:
            with slots:
                return fn()

        try:
            return await anyio.to_thread.run_sync(work)
        except CasebookError as exc:
            raise ToolError(str(exc)) from None

    @asynccontextmanager
    async def opened(_: MCPServer) -> AsyncIterator[None]:
        # Indexes the bundled collection when nothing is indexed yet, and loads the model, before the
        # first call; under stdio this runs with fd 1 already pointed at stderr.
        def prepare() -> None:
            cb.ensure_indexed(on_ingest=lambda msg: print(f"casebook: {msg}", file=sys.stderr))
            cb.years  # noqa: B018 - opening the retriever loads the index's catalog and the model

        await anyio.to_thread.run_sync(prepare)
        yield

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    server: MCPServer = MCPServer("casebook", title="Casebook", version=version("casebook"), instructions=INSTRUCTIONS, lifespan=opened)
    # The SDK configures the root logger when a server is made (a handler at INFO): every library's
    # chatter would reach stderr. Logging stays as the process had it; warnings still reach stderr.
    root.handlers[:], root.level = handlers, level

    @server.tool(name="ask", title="Ask the case reviews", annotations=READ_ONLY)
    async def ask(question: Question, filters: FiltersArg = None, history: History | None = None) -> AnswerOut:
        """Answer a question from UK child safeguarding case reviews. Every [n] in the answer is a citation
        whose quote is the source's exact words. A topic question gets themes (findings and recommendations
        several reviews share) and coverage (how many reviews discuss it); "how many…"/"which reviews…" are
        counted exactly. refused is true when the reviews do not answer the question; safety_notice (999, NSPCC
        Helpline) is set when the question reads as a child at risk now and must be shown first."""
        chosen = (filters or FiltersIn()).to_filters()
        answer = await _called(lambda: cb.ask(question, chosen, history=history or ()))
        return answer_out(answer)

    @server.tool(name="search", title="Search the case reviews", annotations=READ_ONLY)
    async def search(
        query: Question,
        k: Annotated[int, Field(ge=1, le=50, description="how many sources")] = 10,
        filters: FiltersArg = None,
    ) -> SearchOut:
        """Find the sources (reviews, briefings, guides) that match a query, best first, each with its best
        passage in its exact words and its details (year, area, nation, age band, outcome, NSPCC keywords)."""
        chosen = (filters or FiltersIn()).to_filters()
        result = await _called(lambda: cb.search_scored(query, k=k, filters=chosen))
        return search_out(query, result)

    @server.tool(name="reviews", title="Count and list reviews", annotations=READ_ONLY)
    async def reviews(
        filters: FiltersArg = None,
        limit: Annotated[int, Field(ge=0, le=MAX_LISTED, description="list at most this many (0: count only)")] = 25,
    ) -> ReviewsOut:
        """Count the case reviews with these details (years, nation, age band, outcome, NSPCC keyword, area),
        exactly, and list them newest first. Only case reviews are counted unless the kind filter names others."""
        chosen = (filters or FiltersIn()).to_filters()

        def matching() -> tuple[Filters, list[Chunk]]:
            checked = cb.check_filters(chosen)
            firsts = cb.documents(checked)
            if not checked.kind:
                firsts = [c for c in firsts if c.kind == "case_review"]
            return checked, firsts

        checked, firsts = await _called(matching)
        shown = firsts[:limit]
        return ReviewsOut(filters=describe_filters(checked), count=len(firsts), listed=len(shown), reviews=[listed_out(c) for c in shown])

    @server.tool(name="review", title="Read one review", annotations=READ_ONLY)
    async def review(source: Source) -> ReviewOut:
        """Read one source: its details and what it says, a case review's summary, learning and
        recommendations in its exact words."""
        return review_out(await _called(lambda: source_chunks(cb, source)))

    return server


def run_stdio(cb: Casebook) -> None:
    """Serve the tools over stdin and stdout until the client closes stdin. An error Casebook expects
    while opening the index (a Chroma server down, a bad setting) is raised as itself, for the CLI's
    one-line message, not inside the SDK's task-group wrapping."""
    try:
        build_mcp(cb).run("stdio")
    except BaseExceptionGroup as group:
        expected = _first_expected(group)
        if expected is None:
            raise
        raise expected from None


def _first_expected(group: BaseExceptionGroup[Any]) -> CasebookError | None:
    for exc in group.exceptions:
        if isinstance(exc, CasebookError):
            return exc
        if isinstance(exc, BaseExceptionGroup) and (found := _first_expected(exc)) is not None:
            return found
    return None


class BearerGuard:
    """ASGI: passes a request on only with ``Authorization: Bearer <api_key>`` (the API's check), else
    answers the API's JSON 401; without a key every request passes."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app, self.api_key = app, api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.api_key and scope["type"] == "http" and not bearer_matches(Headers(scope=scope).get("authorization", ""), self.api_key):
            response = error_response(401, UNAUTHORISED, "unauthorised", headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mount_mcp(app: Starlette, cb: Casebook, *, api_key: str = "", host: str = "127.0.0.1") -> MCPServer:
    """Serve the tools at ``MCP_PATH`` on ``app`` (streamable HTTP), behind ``api_key`` when one is set,
    and run the session manager inside the app's lifespan (a mounted app's own lifespan never runs).
    Call before anything is mounted at ``/``. ``host``: where the server listens; on loopback the SDK
    also refuses requests whose Host or Origin header is not loopback (DNS rebinding)."""
    server = build_mcp(cb)
    server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)  # creates the session manager
    manager = server.session_manager
    app.router.routes.append(Route(MCP_PATH, endpoint=BearerGuard(manager.handle_request, api_key)))
    before: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with before(served) as state, manager.run():
            yield state

    app.router.lifespan_context = lifespan
    return server
