"""Ingest benchmark: cold ingest, no-op re-ingest, and embedding throughput of the pipeline
against the model's own ``encode`` on the same chunk texts.

    python -m benchmarks.ingest [--json]

Targets on the 2-core reference machine: cold ≤ 90 s, no-op ≤ 5 s, pipeline ≥ 90 % of raw encode.
Runs in a temporary CASEBOOK_HOME; the model is loaded before timing starts (its load time is
reported separately) so the figures measure ingest, not Python start-up.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from ingest.bundled import parse_collection
from ingest.chunking import chunk_document
from records.settings import load_settings
from vectorstore.embedder import EMBED_BACKENDS, load_embedder
from vectorstore.indexer import run_ingest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", choices=EMBED_BACKENDS, default="onnx", help="embedding backend (default onnx)")
    args = parser.parse_args()

    t = time.perf_counter()
    embedder = load_embedder(backend=args.backend)
    load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(env={"CASEBOOK_HOME": home, "CASEBOOK_EMBED_BACKEND": args.backend})
        cold = run_ingest(settings, embedder=embedder, progress=False)
        noop = run_ingest(settings, embedder=embedder, progress=False)

    texts = [c.embed_text for d in parse_collection().documents for c in chunk_document(d, settings.chunk_max_tokens)]
    t = time.perf_counter()
    embedder.encode_raw(texts)
    raw_s = time.perf_counter() - t
    result = {
        "backend": args.backend,
        "model_load_s": round(load_s, 2),
        "cold_ingest_s": round(cold.seconds, 2),
        "noop_reingest_s": round(noop.seconds, 3),
        "chunks": cold.embedded_chunks,
        "pipeline_embed_chunks_per_s": round(cold.embedded_chunks / cold.embed_seconds, 1),
        "raw_encode_chunks_per_s": round(len(texts) / raw_s, 1),
        "pipeline_vs_raw": round((cold.embedded_chunks / cold.embed_seconds) / (len(texts) / raw_s), 3),
        "pipeline_end_to_end_chunks_per_s": round(cold.embedded_chunks / cold.seconds, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:34} {v}")


if __name__ == "__main__":
    main()
