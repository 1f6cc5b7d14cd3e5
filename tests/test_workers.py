"""Two `casebook serve` workers against one real `chroma run` server, sharing one CASEBOOK_HOME (the
ledger, the retrieval catalog, the feedback file): they answer at the same time, and both see what
an ingest by a third process added, on their next question, without a restart. Real processes, the
real embedding model, the HTTP API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.net import chroma_server, free_port, wait_for_http

pytestmark = pytest.mark.slow

NOTES = {
    "sleep.md": "# Safe sleep\n\nAn infant died after co-sleeping on a sofa with a parent who had drunk alcohol. "
    "Learning includes: safe sleep advice must be repeated at every contact.\n",
    "fathers.txt": "Fathers and men in the household were not seen by health visitors before the baby was born. "
    "Learning includes: ask who lives in the home and involve fathers in assessments.\n",
}
LATER = (
    "Trampoline injuries at a holiday park went unexplained. "
    "Learning includes: caravan site staff should know how to report concerns about a child's injuries.\n"
)


def post(port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return dict(json.loads(response.read()))


def sources(port: int, query: str) -> list[str]:
    return [r["source_id"] for r in post(port, "/api/search", {"query": query, "k": 5})["results"]]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with chroma_server(tmp_path / "chroma-data") as port:
        yield {
            **os.environ,
            "CASEBOOK_HOME": str(tmp_path / "home"),
            "CASEBOOK_CHROMA_MODE": "server",
            "CASEBOOK_CHROMA_PORT": str(port),
            "HF_HUB_OFFLINE": "1",
        }


def casebook(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.surfaces.cli", *args], env=env, capture_output=True, text=True, timeout=600)


def test_two_workers_answer_together_and_see_an_ingest(tmp_path: Path, env: dict[str, str]) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    done = casebook(env, "ingest", str(notes))
    assert done.returncode == 0, done.stderr

    ports = [free_port(), free_port()]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.surfaces.cli", "serve", "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in ports
    ]
    try:
        for p, w in zip(ports, workers, strict=True):
            wait_for_http(f"http://127.0.0.1:{p}/api/health", w, timeout_s=180)

        # Both at once, several questions each: the same index, the same answers.
        questions = ["co-sleeping after alcohol", "fathers not seen by health visitors"] * 3
        with ThreadPoolExecutor(max_workers=6) as pool:
            found = list(pool.map(lambda pq: (pq[0], pq[1], sources(*pq)), [(p, q) for p in ports for q in questions]))
        by_worker = {p: {q: ids for w, q, ids in found if w == p} for p in ports}
        assert by_worker[ports[0]] == by_worker[ports[1]]
        assert all(ids for ids in by_worker[ports[0]].values())

        # A third process ingests a note; neither worker is restarted.
        later = tmp_path / "later"
        later.mkdir()
        (later / "trampoline.txt").write_text(LATER, encoding="utf-8")
        done = casebook(env, "ingest", str(later))
        assert done.returncode == 0, done.stderr
        for p in ports:
            top = post(p, "/api/search", {"query": "trampoline injuries holiday park caravan", "k": 3})["results"]
            assert top and "trampoline" in top[0]["text"].lower(), (p, top)
            # The worker's catalog was reloaded (a document Chroma returns but the catalog lacks is
            # left out), so the answer can cite the new note.
            answer = post(p, "/api/ask", {"question": "what did the note say about trampoline injuries at a holiday park?"})
            assert any("trampoline" in c["quote"].lower() for c in answer["citations"]), answer
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
