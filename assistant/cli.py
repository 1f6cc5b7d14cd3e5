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
from pathlib import Path
from typing import Any

from assistant.errors import CasebookError
from assistant.settings import Settings, load_settings


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import run_ingest

    report = run_ingest(settings, [Path(p) for p in args.paths] or None, rebuild=args.rebuild, progress=not args.json)
    if args.json:
        _print_json(report.as_dict())
        return 1 if report.errors and not report.documents else 0
    for e in report.excluded:
        print(f"excluded  {e.title} [{e.source_file}]: {e.reason}")
    for err in report.errors:
        print(f"error     {err.reason}", file=sys.stderr)
    print(
        f"ingested {report.documents} documents ({report.reviews} reviews), {report.chunks} chunks in the index; "
        f"{report.written} written, {report.unchanged} unchanged, {report.removed} removed, "
        f"{len(report.excluded)} excluded, {len(report.errors)} errors"
        + (f", {report.repaired} repaired after an interrupted run" if report.repaired else "")
        + f"; {report.seconds:.1f} s"
    )
    return 1 if report.errors and not report.documents else 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.stats import collect_stats, format_stats

    stats = collect_stats(settings)
    if args.json:
        _print_json(stats)
    else:
        print(format_stats(stats) if stats["documents"] else "nothing is indexed yet; run `casebook ingest`")
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

    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = load_settings(home=args.home)
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
