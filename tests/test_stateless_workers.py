"""Workers on several machines: `casebook serve` workers with empty homes of their own over one real
`chroma run` server, and ingests from other homes. Nothing is shared but the Chroma server.

Each worker builds its catalog from Chroma, notices a new generation there and rebuilds in the
background while it serves, and reports the generation it serves in /api/health; a worker started
later catches up by itself; an ingest killed mid-way leaves every worker on the previous generation,
and its hold on the collection refuses a second ingest until it lapses; every worker's /api/stats
matches the ingester's `casebook stats`. Real processes, the real embedding model, the HTTP API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.net import chroma_server, free_port, wait_for_http

pytestmark = pytest.mark.slow

NOTE = (
    "Trampoline injuries at a holiday park went unexplained. "
    "Learning includes: caravan site staff should know how to report concerns about a child's injuries.\n"
)
ASK = "what should caravan site staff know about reporting concerns about a child's injuries?"
LEASE_S = 30  # long enough for a second `casebook ingest` to start up and look while the killed one still holds it
CATCH_UP_S = 90  # the bound on a worker's catch-up (a rebuild from Chroma takes a few seconds here)


def get(port: int, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as response:
        return dict(json.loads(response.read()))


def post(port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return dict(json.loads(response.read()))


def cites_note(port: int) -> bool:
    answer = post(port, "/api/ask", {"question": ASK})
    return any("caravan site staff" in c["quote"].lower() for c in answer["citations"])


def until(check: Callable[[], bool], timeout_s: float = CATCH_UP_S) -> float:
    """Seconds until ``check()`` holds; fails past ``timeout_s``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, f"not within {timeout_s} s"
        time.sleep(0.5)
    return time.monotonic() - started


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[int]:
    with chroma_server(tmp_path / "chroma-data") as port:
        yield port


def home_env(chroma_port: int, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CASEBOOK_HOME": str(home),
        "CASEBOOK_CHROMA_MODE": "server",
        "CASEBOOK_CHROMA_PORT": str(chroma_port),
        "CASEBOOK_INGEST_LEASE_S": str(LEASE_S),
        "CASEBOOK_INDEX_CHECK_S": "1",
        "HF_HUB_OFFLINE": "1",
    }


def casebook(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.surfaces.cli", *args], env=env, capture_output=True, text=True, timeout=900)


def serve(env: dict[str, str]) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.surfaces.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_http(f"http://127.0.0.1:{port}/api/health", proc, timeout_s=300)
    return port, proc


def collection(chroma_port: int) -> dict[str, Any]:
    """The collection as the Chroma server describes it (its id and metadata), and its chunk count."""
    base = f"http://127.0.0.1:{chroma_port}/api/v2/tenants/default_tenant/databases/default_database/collections"
    with urllib.request.urlopen(base) as r:
        (found,) = [c for c in json.loads(r.read()) if c["name"] == "casebook"]
    with urllib.request.urlopen(f"{base}/{found['id']}/count") as r:
        found["count"] = int(json.loads(r.read()))
    return dict(found)


def writing(chroma_port: int, above: int) -> bool:
    """An ingest holds the collection and has written past ``above`` chunks."""
    c = collection(chroma_port)
    return bool((c.get("metadata") or {}).get("casebook_token")) and c["count"] > above


def test_workers_with_empty_homes_follow_the_index_through_chroma_alone(tmp_path: Path, chroma: int) -> None:
    # The bundled collection, ingested from one home.
    first = casebook(home_env(chroma, tmp_path / "home-a"), "ingest")
    assert first.returncode == 0, first.stderr

    workers: list[subprocess.Popen[bytes]] = []
    try:
        ports = []
        for name in ("w1", "w2"):
            port, proc = serve(home_env(chroma, tmp_path / name))
            ports.append(port)
            workers.append(proc)
        generation = get(ports[0], "/api/health")["index"]["generation"]
        assert generation >= 1 and get(ports[1], "/api/health")["index"]["generation"] == generation
        assert not cites_note(ports[0])

        # A note ingested from a third home; neither worker is restarted or told.
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "trampoline.txt").write_text(NOTE, encoding="utf-8")
        ingester = home_env(chroma, tmp_path / "home-d")
        done = casebook(ingester, "ingest", str(notes))
        assert done.returncode == 0, done.stderr
        for port in ports:
            until(lambda p=port: cites_note(p))
            assert get(port, "/api/health")["index"]["generation"] == generation + 1

        # A worker started later, with an empty home, catches up by itself.
        port, proc = serve(home_env(chroma, tmp_path / "w3"))
        workers.append(proc)
        ports.append(port)
        assert cites_note(port) and get(port, "/api/health")["index"]["generation"] == generation + 1

        # Every worker counts what the ingester counts, though none shares its home.
        stats = json.loads(casebook(ingester, "stats", "--json").stdout)
        assert stats["documents"] > 361
        for port in ports:
            served = get(port, "/api/stats")
            assert (served["documents"], served["reviews"], served["chunks"]) == (stats["documents"], stats["reviews"], stats["chunks"])

        # An ingest killed mid-way: the workers stay on the generation they serve ...
        many = tmp_path / "many"
        many.mkdir()
        for i in range(1500):  # three groups of writes
            (many / f"note-{i:03}.txt").write_text(
                f"Note {i}: a health visitor's record of home visit number {i} to a family.\n", encoding="utf-8"
            )
        before = collection(chroma)["count"]
        killed = subprocess.Popen(
            [sys.executable, "-m", "assistant.surfaces.cli", "ingest", str(many)],
            env=home_env(chroma, tmp_path / "home-e"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        until(lambda: writing(chroma, before) or killed.poll() is not None, 600)
        assert killed.poll() is None, "the ingest finished before it could be killed mid-way"
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert writing(chroma, before)  # it wrote part of its notes and still holds the collection
        # ... and its hold on the collection refuses another ingest, naming it, until it lapses.
        refused = casebook(ingester, "ingest", str(notes))
        assert refused.returncode != 0 and f"pid {killed.pid}" in refused.stderr, refused.stderr
        time.sleep(3)  # past the workers' check interval: they have looked at Chroma since
        for port in ports:
            assert get(port, "/api/health")["index"]["generation"] == generation + 1
            assert cites_note(port)

        # Once the hold lapses, an ingest from any home goes ahead and the workers follow it.
        time.sleep(LEASE_S)
        again = casebook(home_env(chroma, tmp_path / "home-e"), "ingest", str(many))
        assert again.returncode == 0, again.stderr
        for port in ports:
            until(lambda p=port: get(p, "/api/health")["index"]["generation"] == generation + 2)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
