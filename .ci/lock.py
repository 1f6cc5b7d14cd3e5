"""The constraints file: the exact version of every package Casebook installs (with the test and llm
extras), taken from a virtualenv whose test run passed.

    .venv/bin/python .ci/lock.py            write constraints.txt from what .venv has installed
    .venv/bin/python .ci/lock.py --check    fail if pyproject.toml and constraints.txt disagree, or if
                                            .venv's installed versions differ from constraints.txt

Only the packages pyproject's requirements reach (following every requirement's own requirements, with
their environment markers and extras) are written; tools installed beside them are not. pyproject keeps
its ranges for people who embed Casebook as a library; the README's commands and .ci/run install with
``-c constraints.txt``, so two installs a month apart are the same program.
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
EXTRAS = ("test", "llm")
HEADER = """\
# Exact versions of everything `pip install -e '.[test,llm]'` installs, from a virtualenv whose full test
# run (.ci/run) passed. Used by the README's commands and .ci/run: pip install -c constraints.txt ...
# Refresh: install without -c in a fresh .venv, run .ci/run's checks and tests, then
#   .venv/bin/python .ci/lock.py && .venv/bin/python .ci/lock.py --check
# tests/test_constraints.py fails when pyproject.toml and this file disagree.
"""


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def applies(req: Requirement, extras: frozenset[str]) -> bool:
    if req.marker is None:
        return True
    env = {k: str(v) for k, v in default_environment().items()}
    return any(req.marker.evaluate({**env, "extra": e}) for e in (extras or {""}))


def installed_closure(roots: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements reach in this environment, name → installed version."""
    found: dict[str, str] = {}
    todo = list(roots)
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"lock: {req.name} is required but not installed in this environment") from None
        found[name] = dist.version
        for line in dist.requires or []:
            sub = Requirement(line)
            if applies(sub, frozenset(req.extras)):
                todo.append(sub)
    return found


def read_constraints(path: Path = CONSTRAINTS) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def disagreements(pins: dict[str, str]) -> list[str]:
    """Where pyproject's requirements and the pinned versions disagree (a requirement not pinned, or
    pinned outside its range)."""
    problems = []
    for req in project_requirements():
        if not applies(req, frozenset()):
            continue
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name}: in pyproject.toml but not pinned in constraints.txt")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}: pyproject.toml asks for {req.specifier}, constraints.txt pins {pinned}")
    return problems


def main(argv: list[str]) -> int:
    if "--check" in argv:
        pins = read_constraints()
        problems = disagreements(pins)
        installed = installed_closure(project_requirements())
        problems += [f"{n}: installed {v}, constraints.txt pins {pins.get(n)}" for n, v in sorted(installed.items()) if pins.get(n) != v]
        for p in problems:
            print(f"lock: {p}", file=sys.stderr)
        if not problems:
            print(f"lock: constraints.txt agrees with pyproject.toml and the installed packages ({len(pins)} pinned)")
        return 1 if problems else 0
    pins = installed_closure(project_requirements())
    CONSTRAINTS.write_text(HEADER + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())), encoding="utf-8")
    print(f"lock: wrote {len(pins)} pins to {CONSTRAINTS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
