"""The ``casebook`` command. Thin: parses arguments, calls the layers, prints.

Errors Casebook expects (``CasebookError``) become one line on stderr and exit status 2; Ctrl-C
exits 130 with a note that the index stays consistent; anything unexpected is one line too, unless
``CASEBOOK_DEBUG=1`` (then the traceback is shown).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from assistant.casebook import Casebook
from assistant.retrieval.filters import check_filters
from assistant.surfaces.handout import briefing_markdown, prompts_markdown, write_briefing
from assistant.surfaces.shapes import answer_dict, describe_filters, prompts_dict, search_dict
from ingest.sources import shown
from records.errors import CasebookError, ConfigError, InputError
from records.settings import Settings, load_settings
from records.text import slugify
from records.types import AGE_BANDS, KINDS, NATIONS, OUTCOMES, Filters


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    cb = Casebook(settings)
    report = cb.ingest([Path(p) for p in args.paths] or None, rebuild=args.rebuild, progress=not args.json)
    if args.json:
        print_json(report.as_dict())
        return 1 if report.errors and not report.documents else 0
    for e in report.excluded:
        print(f"excluded  {shown(e.title)} [{shown(e.source_file)}]: {shown(e.reason)}")
    for err in report.errors:
        print(f"error     {shown(err.reason)}", file=sys.stderr)
    hidden = _hidden_note(report.hidden_files, report.hidden_folders)
    if hidden:
        print(f"skipped   {hidden}", file=sys.stderr)
    print(
        f"ingested {report.documents} documents ({report.reviews} reviews), {report.chunks} chunks in the index; "
        f"{report.written} written, {report.unchanged} unchanged, {report.removed} removed, "
        f"{len(report.excluded)} excluded, {len(report.errors)} errors"
        + (f", {report.repaired} repaired after an interrupted run" if report.repaired else "")
        + f"; {report.seconds:.1f} s"
    )
    return 1 if report.errors and not report.documents else 0


def _hidden_note(files: int, folders: int) -> str:
    counted = [f"{n} hidden {what}{'s' if n != 1 else ''}" for n, what in ((files, "file"), (folders, "folder")) if n]
    if not counted:
        return ""
    return " and ".join(counted) + " (names starting with '.'); name one on the command line to ingest it"


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.retrieval.stats import format_stats

    stats = Casebook(settings).stats()
    if args.json:
        print_json(stats.as_dict())
    else:
        print(format_stats(stats) if stats.documents else "nothing is indexed yet; run `casebook ingest`")
    return 0


def filters_of(args: argparse.Namespace) -> Filters:
    """The filter flags, checked at once for the values that need no index (nation, age band,
    outcome, kind, years), so a typo is reported before the model and the index are loaded."""
    return check_filters(_flags(args))


def _flags(args: argparse.Namespace) -> Filters:
    return Filters(
        year_from=args.year_from,
        year_to=args.year_to,
        nation=tuple(args.nation or ()),
        age_band=tuple(args.age_band or ()),
        outcome=tuple(args.outcome or ()),
        keyword=tuple(args.keyword or ()),
        kind=tuple(args.kind or ()),
        area=tuple(args.area or ()),
    )


def add_filters(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (repeat a flag to allow several values)")
    g.add_argument("--year-from", type=int, metavar="YEAR", help="published in or after YEAR")
    g.add_argument("--year-to", type=int, metavar="YEAR", help="published in or before YEAR")
    g.add_argument("--nation", action="append", help=" | ".join(NATIONS))
    g.add_argument("--age-band", action="append", help=" | ".join(AGE_BANDS))
    g.add_argument("--outcome", action="append", help=" | ".join(OUTCOMES))
    g.add_argument("--keyword", action="append", help="an NSPCC keyword label, e.g. 'domestic abuse'")
    g.add_argument("--kind", action="append", help=" | ".join(KINDS))
    g.add_argument("--area", action="append", help="a partnership or area, e.g. 'Norfolk'")


def add_llm(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm",
        metavar="BACKEND",
        help="extractive (default, no model) | llamacpp[:PATH.gguf] | ollama:MODEL | openai:MODEL (base URL and key from settings)",
    )


def ready_casebook(settings: Settings) -> Casebook:
    """The facade over an index: the bundled collection is indexed first when nothing is yet."""
    cb = Casebook(settings)
    cb.ensure_indexed(on_ingest=lambda msg: print(f"casebook: {msg}", file=sys.stderr))
    return cb


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    cb = ready_casebook(settings)
    result = cb.search_scored(args.query, k=args.k, filters=filters_of(args))
    hits = result.hits
    if args.json:
        print_json(search_dict(args.query, result))
        return 0
    for i, h in enumerate(hits, 1):
        c = h.best
        print(f"{i:2}. {shown(c.heading)}  [{c.kind}, {c.section}]  score {h.score:.4f}")
        print("    " + c.text[:300].replace("\n", " ") + ("…" if len(c.text) > 300 else ""))
    if not hits:
        print("no results")
    return 0


def _print_answer(answer: Any) -> None:
    if answer.safety_notice:
        print(f"!! {answer.safety_notice}\n")
    note = describe_filters(answer.filters)
    if note:
        print(f"({note})\n")
    for note in answer.notes:
        print(f"({note})\n")
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            m = c.chunk.meta
            extra = ", ".join(x for x in (c.chunk.kind.replace("_", " "), m.report_type or "") if x)
            print(f"[{c.n}] {shown(c.chunk.heading)} ({extra}) — {shown(c.chunk.source_file)}:{c.quote_start}-{c.quote_end}")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    cb = ready_casebook(settings)
    filters = filters_of(args)
    if args.question is None:
        return _interactive(cb, filters)
    answer = cb.ask(args.question, filters=filters)
    if args.json:
        print_json(answer_dict(answer))
    else:
        _print_answer(answer)
    return 0


def _interactive(cb: Any, filters: Filters) -> int:
    print("Casebook: ask about UK child safeguarding case reviews (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("\n? ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            _print_answer(cb.ask(question, filters=filters))
        except CasebookError as exc:
            print(f"casebook: {exc}")


def cmd_prompts(args: argparse.Namespace, settings: Settings) -> int:
    p = ready_casebook(settings).prompts(args.theme, filters_of(args), n=args.n)
    if args.json:
        print_json(prompts_dict(p.theme, p.notice, [(line.text, line.cites) for line in p.lines], p.citations))
    else:
        print(prompts_markdown(p))
    return 0


def cmd_briefing(args: argparse.Namespace, settings: Settings) -> int:
    b = ready_casebook(settings).briefing(args.theme, filters_of(args))
    if args.format == "md" and not args.output:
        print(briefing_markdown(b))
        return 0
    path = Path(args.output or f"briefing-{slugify(args.theme)[:40]}.{args.format}")
    try:
        write_briefing(b, args.format, path)
    except OSError as exc:
        raise InputError(f"cannot write {path} ({exc.strerror}); choose another -o path") from None
    if b.notice:
        print(f"casebook: {b.notice}", file=sys.stderr)
    print(f"briefing written to {path}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.surfaces.server import LOOPBACK, describe_guard, serve  # gradio is heavy: imported only to serve

    settings = settings.replace(server_host=args.host or settings.server_host, server_port=args.port or settings.server_port)
    auth = (settings.auth_username, settings.auth_password) if settings.auth_username else None
    if settings.auth_username and not settings.auth_password:
        raise ConfigError("auth_username is set but auth_password is empty; set both (CASEBOOK_AUTH_PASSWORD) or neither")
    if settings.auth_password and not settings.auth_username:
        raise ConfigError("auth_password is set but auth_username is empty; set both (CASEBOOK_AUTH_USERNAME) or neither")
    api_key = os.environ.get("CASEBOOK_API_KEY", "")
    if settings.server_host not in LOOPBACK and not (api_key and auth) and not args.allow_open:
        missing = " and ".join(
            p for p, ok in (("CASEBOOK_API_KEY", api_key), ("a chat login (CASEBOOK_AUTH_USERNAME/PASSWORD)", auth)) if not ok
        )
        raise ConfigError(
            f"refusing to serve on {settings.server_host} without {missing}: anyone who can reach this machine could use it. "
            "Set them, or pass --allow-open if the network is already closed to others"
        )
    cb = ready_casebook(settings)  # index first if nothing is indexed, before saying "serving"
    url = f"http://{settings.server_host}:{settings.server_port}"
    print(
        f"casebook: serving the chat on {url}/ and the API on {url}/v1 and {url}/api (docs: {url}/docs), MCP on {url}/mcp; Ctrl-C stops",
        file=sys.stderr,
    )
    # With an API key and no chat login, serve() gives the chat a login whose password is the key.
    print(f"casebook: {describe_guard(auth, api_key)}", file=sys.stderr)
    serve(cb, host=settings.server_host, port=settings.server_port, auth=auth, api_key=api_key)
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.surfaces.mcp import run_stdio  # the MCP SDK is imported only to serve it

    run_stdio(Casebook(settings))  # stdout is the protocol's: the server indexes and loads the model itself
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebook",
        description="Question answering over UK child safeguarding case reviews, with citations.",
    )
    parser.add_argument("--home", help="state folder (default $CASEBOOK_HOME)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the bundled collection, or your own files and folders")
    p.add_argument("paths", nargs="*", help=".txt .md .html .pdf .docx files or folders (default: the bundled collection)")
    p.add_argument("--rebuild", action="store_true", help="start the index afresh")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="the reviews and passages that match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=10, help="how many sources (default 10)")
    p.add_argument("--json", action="store_true")
    add_filters(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a short answer in which every sentence cites a review (no question: interactive)")
    p.add_argument("question", nargs="?")
    p.add_argument("--json", action="store_true")
    add_llm(p)
    add_filters(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="the practitioners' chat in the browser, and the HTTP API on the same port")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument(
        "--allow-open",
        action="store_true",
        help="serve beyond this machine without an API key or a chat login (only on a network closed to others)",
    )
    add_llm(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="an MCP server on stdin/stdout, for MCP clients (ask, search, reviews, review)")
    add_llm(p)
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("prompts", help="cited discussion prompts for a team session")
    p.add_argument("--theme", required=True, help="e.g. 'unseen men'")
    p.add_argument("--n", type=int, default=5, help="how many prompts (default 5)")
    p.add_argument("--json", action="store_true")
    add_llm(p)
    add_filters(p)
    p.set_defaults(func=cmd_prompts)

    p = sub.add_parser("briefing", help="a cited 7-minute briefing handout")
    p.add_argument("--theme", required=True)
    p.add_argument("--format", choices=("md", "docx", "pdf"), default="md")
    p.add_argument("-o", "--output", help="file to write (md goes to the screen without it)")
    add_llm(p)
    add_filters(p)
    p.set_defaults(func=cmd_briefing)

    for entry in entry_points(group="casebook.commands"):
        entry.load()(sub)

    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = load_settings(home=args.home, llm=getattr(args, "llm", None))
        return func(args, settings)
    except CasebookError as exc:
        print(f"casebook: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("casebook: interrupted; the index is consistent, run the command again to finish", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("CASEBOOK_DEBUG") or "pytest" in sys.modules:
            raise
        print(f"casebook: unexpected error: {exc.__class__.__name__}: {exc} (CASEBOOK_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
