"""Start-up, search, ask, memory and disk at N× today's index.

    python -m benchmarks.scale --home DIR [--factor 1 --factor 10 --factor 100] [--json]

For each factor N it builds, under ``DIR/<N>x``, an index of N copies of the bundled index (the 1×
index in $CASEBOOK_HOME, ingested first if empty): every document copied with a new id, its vectors
reused with a small random perturbation (renormalised), written through the store. So a 100× index
builds in minutes and embedding cost is left to benchmarks/ingest.py; the copy's write rate is
reported. An index already at the right size is reused. The build ends as ingest does, by
building the retrieval catalog (vectorstore/catalog.py), timed as ``catalog_build_s``.

Then a fresh process opens the retriever as ``ask``/``serve`` do and reports start-up time (the
whole process to a ready retriever, imports and the embedding model included, and the retriever's
construction alone: loading the catalog, name and label maps), ``search`` and ``ask`` p50/p95 over
the benchmark questions, and its peak memory; and the folder's size on disk. An SVG plot of each
figure against size is written to ``DIR/scale.svg`` and ``DIR/scale.png`` (or ``--png``).

``--catch-up`` measures instead what a worker with an empty home costs over a Chroma server: a real
``chroma run`` on the N× index's folder, a fresh process with an empty home in server mode; the time
to its first answer (its catalog built from Chroma alone), then, after the index's generation is moved
on as an ingest would, the time until it serves the new generation (``catch_up_s``: noticed, within
``index_check_s`` = 1 s, rebuilt in the background, swapped) and the slowest answer it gave meanwhile
(``ask_while_rebuilding_ms``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.casebook import Casebook
from benchmarks.timing import QUESTIONS
from records.settings import Settings, load_settings
from vectorstore.catalog import Catalog, catalog_root, index_stamp, refresh_catalog
from vectorstore.store import Store, open_store

PROBE = r"""
import json, resource, statistics, sys, time
t = time.perf_counter()
from assistant.casebook import Casebook
from records.settings import load_settings
cb = Casebook(load_settings(home=sys.argv[1]))
t1 = time.perf_counter()
r = cb.retriever
retriever_s = time.perf_counter() - t1
startup = time.perf_counter() - t
qs = json.loads(sys.argv[2])
def timed(fn):
    out = []
    for q in qs * 4:
        t = time.perf_counter(); fn(q); out.append(1000 * (time.perf_counter() - t))
    out.sort()
    return out[len(out) // 2], out[int(0.95 * (len(out) - 1))]
cb.ask(qs[0])
s50, s95 = timed(lambda q: cb.search(q, k=10))
a50, a95 = timed(cb.ask)
print(json.dumps({"chunks": r.chunk_count, "startup_s": round(startup, 2), "retriever_s": round(retriever_s, 2),
  "search_p50_ms": round(s50, 1),
  "search_p95_ms": round(s95, 1), "ask_p50_ms": round(a50, 1), "ask_p95_ms": round(a95, 1),
  "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 2)}))
"""


def build(source_home: Path | None, target: Path, factor: int, seed: int = 0) -> dict[str, Any]:
    """N copies of the source index in ``target``; the copy's write rate."""
    base = Casebook(load_settings(home=source_home) if source_home else load_settings())
    base.ensure_indexed()
    src = open_store(base.settings)
    settings = load_settings(home=target)
    dst = open_store(settings)
    if dst.count() == src.count() * factor:
        return {"built": False, **catalog(settings, dst)}
    dst.reset()
    rng = np.random.default_rng(seed)
    rows = list(src.all_with_vectors())
    started, written = time.perf_counter(), 0
    for k in range(factor):
        chunks, vectors = [], []
        for chunk, vector in rows:
            doc = chunk.doc_id if k == 0 else f"{chunk.doc_id}~{k}"
            chunks.append(dataclasses.replace(chunk, doc_id=doc, chunk_id=f"{doc}#{chunk.index}"))
            v = np.asarray(vector) + (rng.normal(0.0, 0.01, len(vector)) if k else 0.0)
            vectors.append((v / np.linalg.norm(v)).tolist())
        dst.upsert(chunks, vectors)
        written += len(chunks)
    seconds = time.perf_counter() - started
    return {"built": True, "write_chunks_per_s": round(written / seconds, 1), **catalog(settings, dst)}


def catalog(settings: Settings, store: Store) -> dict[str, Any]:
    """Ingest's last step, timed: the retrieval catalog built from the store (or found current)."""
    t = time.perf_counter()
    current = Catalog.load(catalog_root(settings), index_stamp(store)) is not None
    if not current:
        refresh_catalog(settings, store)
    return {"catalog_build_s": None if current else round(time.perf_counter() - t, 1)}


CATCH_UP = r"""
import dataclasses, json, sys, tempfile, time
from assistant.casebook import Casebook
from records.settings import load_settings
settings = load_settings(home=tempfile.mkdtemp(), chroma_mode="server", chroma_port=int(sys.argv[1]), index_check_s=1)
question = sys.argv[2]
t = time.perf_counter()
cb = Casebook(settings)
cb.ask(question)
cold = time.perf_counter() - t
store = cb.retriever.store
state = store.state()
store.set_state(dataclasses.replace(state, generation=state.generation + 1))
t, slowest = time.perf_counter(), 0.0
while cb.retriever.catalog.stamp.generation != state.generation + 1:
    a = time.perf_counter(); cb.ask(question); slowest = max(slowest, time.perf_counter() - a)
catch_up = time.perf_counter() - t
print(json.dumps({"chunks": cb.retriever.chunk_count, "empty_home_first_answer_s": round(cold, 2),
  "catch_up_s": round(catch_up, 2), "ask_while_rebuilding_ms": round(1000 * slowest, 1)}))
"""


def catch_up(target: Path) -> dict[str, Any]:
    """A worker with an empty home over a real ``chroma run`` on ``target``'s index (CATCH_UP)."""
    import shutil
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    server = subprocess.Popen(
        [exe, "run", "--path", str(load_settings(home=target).chroma_path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not come up") from None
                time.sleep(0.3)
        out = subprocess.run([sys.executable, "-c", CATCH_UP, str(port), QUESTIONS[0]], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"the worker failed: {out.stderr[-2000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(timeout=30)


def probe(home: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(home), json.dumps(QUESTIONS)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def disk_gb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024**3, 3)


FIGURES = ["startup_s", "search_p50_ms", "ask_p50_ms", "peak_memory_gb", "disk_gb"]


Panel = tuple[int, str, list[float], list[tuple[float, float]]]


def panels(results: list[dict[str, Any]], w: int, h: int, pad: int, top: int) -> Iterator[Panel]:
    """For each figure's panel (``w`` wide, side by side): its left edge, name, values and the
    values' points on a log-x chart against the number of chunks, the largest at ``top``."""
    xs = [np.log10(max(r["chunks"], 1)) for r in results]
    lo_x, hi_x = min(xs), max(xs) or 1
    for i, name in enumerate(FIGURES):
        ys = [float(r[name]) for r in results]
        x0, hi_y = i * w + pad, max(ys) or 1
        pts = [
            (x0 + (x - lo_x) / ((hi_x - lo_x) or 1) * (w - 2 * pad), top + (1 - y / hi_y) * (h - top - pad))
            for x, y in zip(xs, ys, strict=True)
        ]
        yield x0, name, ys, pts


def svg(results: list[dict[str, Any]], path: Path) -> None:
    """One small log-x line chart per figure against the number of chunks."""
    w, h, pad = 260, 170, 36
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(FIGURES)}" height="{h}" font-family="sans-serif" font-size="11">']
    for x0, name, ys, pts in panels(results, w, h, pad, top=20):
        parts.append(f'<text x="{x0}" y="12">{name} (x: chunks, log)</text>')
        parts.append(f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}"/>')
        for (a, b), r, y in zip(pts, results, ys, strict=True):
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#1f5fa8"/><text x="{a:.1f}" y="{b - 6:.1f}">{y:g}</text>')
            parts.append(f'<text x="{a:.1f}" y="{h - 8}">{r["chunks"]}</text>')
    parts.append("</svg>")
    path.write_text("".join(parts), encoding="utf-8")


def png(results: list[dict[str, Any]], path: Path) -> None:
    """The same charts as ``svg``, as a PNG (Pillow, which Gradio already brings), for the README."""
    from PIL import Image, ImageDraw

    w, h, pad = 300, 220, 40
    image = Image.new("RGB", (w * len(FIGURES), h), "white")
    draw = ImageDraw.Draw(image)
    for x0, name, ys, pts in panels(results, w, h, pad, top=44):
        draw.text((x0 - pad + 8, 6), f"{name} (x: chunks, log)", fill="black")
        draw.line([(x0, h - pad), (x0 + w - 2 * pad, h - pad)], fill="#999999")
        draw.line(pts, fill="#1f5fa8", width=2)
        for (a, b), r, y in zip(pts, results, ys, strict=True):
            draw.ellipse([a - 3, b - 3, a + 3, b + 3], fill="#1f5fa8")
            draw.text((a - 10, b - 16), f"{y:g}", fill="black")
            draw.text((a - 14, h - pad + 6), f"{r['chunks']:,}", fill="#555555")
    image.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True, help="folder for the N× indexes (kept for reuse)")
    parser.add_argument("--factor", type=int, action="append", help="repeat for several (default 1, 10, 100)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--png", type=Path, help="where to write the PNG plot (default DIR/scale.png)")
    parser.add_argument("--catch-up", action="store_true", help="a worker with an empty home over a Chroma server (above)")
    args = parser.parse_args()
    root = Path(args.home).expanduser()
    if args.catch_up:
        for factor in args.factor or [1, 100]:
            target = root / f"{factor}x"
            build(None, target, factor)
            print(json.dumps({"factor": factor, **catch_up(target)}), flush=True)
        return
    results = []
    for factor in args.factor or [1, 10, 100]:
        target = root / f"{factor}x"
        built = build(None, target, factor)
        measured = probe(target)
        results.append({"factor": factor, **measured, "disk_gb": disk_gb(target), **built})
        if not args.json:
            print(", ".join(f"{k} {v}" for k, v in results[-1].items()), flush=True)
    svg(results, root / "scale.svg")
    png(results, args.png or root / "scale.png")
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"plots: {root / 'scale.svg'}, {args.png or root / 'scale.png'}")


if __name__ == "__main__":
    main()
