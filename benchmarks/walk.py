"""The question's path through the code: how often a reader following ``Casebook.ask`` must go back to
a file already read.

    python -m benchmarks.walk ["question"] [--path] [--json]

Traces one answer (after a first, warming one) on the index ``CASEBOOK_HOME`` points at and walks its
calls depth first as a reader would: each function is read at its first call only (a later call to a
function already read is skipped, with everything under it), and only Casebook's own files under
``assistant/`` count (the surfaces, ``records``, ``vectorstore`` and libraries are not on the path).
The walk is the sequence of files the reader is in, a call into another file and the return to the
caller each a step, runs of one file collapsed into one stay. It reports:

- ``stays`` and ``files``: the walk's length and how many files it touches;
- ``returns``: stays in a file already left (``stays - files``), whether by a return or a call;
- ``reentries``: calls into a file already left, with the function called: the jumps back a reader
  cannot avoid by reading a caller to its end.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from assistant.casebook import Casebook

BRUISING = "What did reviews say about bruising in non-mobile babies?"
ASSISTANT = str(Path(__file__).resolve().parents[1] / "assistant") + "/"


@dataclass(frozen=True)
class Walk:
    stays: int
    files: int
    returns: int
    reentries: tuple[str, ...]  # "file: function" of each call into a file already left
    path: tuple[str, ...]


def _counted(filename: str) -> bool:
    return filename.startswith(ASSISTANT) and "/surfaces/" not in filename


def walk(cb: Casebook, question: str = BRUISING) -> Walk:
    """The walk of one ``cb.ask(question)``; ``cb`` is warmed by a first answer."""
    cb.ask(question)
    read: set[Any] = set()
    path: list[str] = []
    reentries: list[str] = []
    stack: list[tuple[str, str]] = []  # (kind, file): "read", "skip" (already read, or under one) or "out"

    def step(filename: str, by_call: str | None = None) -> None:
        rel = filename[len(ASSISTANT) :]
        if path and path[-1] == rel:
            return
        if by_call and rel in path:
            reentries.append(f"{rel}: {by_call}")
        path.append(rel)

    def profile(frame: FrameType, event: str, _: Any) -> None:
        if event == "call":
            code = frame.f_code
            inside = _counted(code.co_filename)
            if (stack and stack[-1][0] == "skip") or (inside and code in read):
                stack.append(("skip", code.co_filename))
            elif not inside:
                stack.append(("out", code.co_filename))
            else:
                read.add(code)
                stack.append(("read", code.co_filename))
                step(code.co_filename, code.co_name)
        elif event == "return" and stack:
            kind, _ = stack.pop()
            if kind == "read":
                caller = next((f for k, f in reversed(stack) if k == "read"), None)
                if caller:
                    step(caller)

    sys.setprofile(profile)
    try:
        cb.ask(question)
    finally:
        sys.setprofile(None)
    return Walk(len(path), len(set(path)), len(path) - len(set(path)), tuple(reentries), tuple(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.walk", description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=BRUISING)
    parser.add_argument("--path", action="store_true", help="print the walk itself")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    w = walk(Casebook(), args.question)
    if args.json:
        print(json.dumps(asdict(w), indent=2))
        return 0
    print(f"{w.stays} stays in {w.files} files; {w.returns} stays in a file already left; {len(w.reentries)} calls back into one:")
    for r in w.reentries:
        print(f"  {r}")
    if args.path:
        print(" > ".join(w.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
