"""HTTP API latency under load: a real server on a free loopback port, the bundled index.

    python -m benchmarks.api [--requests 40] [--concurrency 20] [--json]

Starts ``casebook serve``'s app (chat and API on one port) without blocking, warms it up, then sends
``--requests`` questions to ``POST /v1/chat/completions`` with ``--concurrency`` in flight at once,
and reports each request's latency p50/p95 (queueing included), the wall time and the throughput,
and how many succeeded. The server answers at most ``max_concurrent`` (4) at once; the rest wait.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from assistant.casebook import Casebook
from assistant.surfaces.server import serve
from benchmarks.timing import QUESTIONS, percentile


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cb = Casebook()
    cb.ensure_indexed()
    port = _free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:

        def one(i: int) -> tuple[int, float]:
            body = {"model": "casebook", "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]}
            t = time.perf_counter()
            r = httpx.post(url, json=body, timeout=300)
            return r.status_code, 1000 * (time.perf_counter() - t)

        for i in range(len(QUESTIONS)):  # warm: model, label vectors, first answers
            one(i)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - started
    finally:
        server.close()
    ms = [m for _, m in results]
    out = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "succeeded": sum(1 for s, _ in results if s == 200),
        "latency_p50_ms": round(percentile(ms, 0.5), 1),
        "latency_p95_ms": round(percentile(ms, 0.95), 1),
        "wall_s": round(wall, 2),
        "answers_per_s": round(args.requests / wall, 2),
    }
    print(json.dumps(out, indent=2) if args.json else ", ".join(f"{k} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
