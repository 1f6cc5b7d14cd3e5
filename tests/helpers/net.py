"""Loopback helpers for tests that start real servers."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Until ``url`` answers, or fail when the server exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the server at {url} did not come up") from None
            time.sleep(0.3)


@contextlib.contextmanager
def chroma_server(data: Path) -> Iterator[int]:
    """A real `chroma run` (the chromadb package's own server) on a free loopback port."""
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, timeout_s=60)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
