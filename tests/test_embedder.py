"""vectorstore/embedder.py: the ONNX backend gives torch's vectors (so an index embedded by either is
searched by the other), loads without torch once its graph is exported, and a bad backend name or a
broken ONNX runtime is explained, not a traceback; the remembering embedder embeds each text once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import pytest

from ingest.bundled import parse_collection
from ingest.chunking import chunk_document
from records.errors import ConfigError
from vectorstore import embedder as embedding
from vectorstore.embedder import MiniLMEmbedder, OnnxMiniLMEmbedder, RememberingEmbedder, load_embedder


@pytest.mark.slow
def test_onnx_vectors_are_torch_vectors() -> None:
    docs = parse_collection().documents
    texts = [c.embed_text for d in docs[::12] for c in chunk_document(d, 180)][:120]
    texts += ["safe sleep " * 400, "a", "Bruising in a NON-MOBILE baby — 4-month-old; refer!"]  # truncated at 256 tokens, tiny, odd
    onnx = np.asarray(OnnxMiniLMEmbedder().embed(texts))
    torch = np.asarray(MiniLMEmbedder().embed(texts))
    assert onnx.shape == torch.shape == (len(texts), 384)
    cosine = (onnx * torch).sum(axis=1)
    assert cosine.min() > 0.99999, cosine.min()
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_once_exported_the_onnx_backend_runs_without_torch() -> None:
    OnnxMiniLMEmbedder()  # exports the graph if this machine has not yet
    code = (
        "import sys; from vectorstore.embedder import load_embedder; "
        "e = load_embedder(); assert type(e).__name__ == 'OnnxMiniLMEmbedder'; e.embed(['co-sleeping']); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    assert out.stdout.strip() == "False"


def test_an_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="embed_backend: expected one of onnx, torch; got 'tensorflow'"):
        load_embedder("", 64, "tensorflow")


def test_a_broken_onnx_runtime_falls_back_to_torch_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def __init__(self, *args: object) -> None:
            raise ImportError("No module named 'onnxruntime'")

    class Torch:
        def __init__(self, *args: object) -> None:
            self.name = "torch stand-in"

    monkeypatch.setattr(embedding, "OnnxMiniLMEmbedder", Broken)
    monkeypatch.setattr(embedding, "MiniLMEmbedder", Torch)
    load_embedder.cache_clear()
    try:
        chosen = load_embedder("", 64, "onnx")
    finally:
        load_embedder.cache_clear()
    assert isinstance(chosen, Torch)
    assert "ONNX embedder is unavailable (No module named 'onnxruntime'); using torch" in caplog.text


class Counting:
    """An embedder that records what it was asked to embed: one axis per text's length."""

    name = "counting"

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.asked.append(list(texts))
        return [[float(len(t)), 1.0] for t in texts]


def test_the_remembering_embedder_embeds_each_text_once_and_forgets_the_oldest() -> None:
    inner = Counting()
    remembering = RememberingEmbedder(inner, capacity=3)
    assert remembering.name == "counting"
    assert remembering.embed(["aa", "b", "aa"]) == [[2.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    assert inner.asked == [["aa", "b"]]  # a text repeated in one call is embedded once
    assert remembering.embed(["b", "ccc", "dddd"]) == [[1.0, 1.0], [3.0, 1.0], [4.0, 1.0]]
    assert inner.asked[-1] == ["ccc", "dddd"]  # what it already has is not embedded again
    # Capacity 3: "aa" (used longest ago) was forgotten, "b" (used again) was not.
    remembering.embed(["b"])
    remembering.embed(["aa"])
    assert inner.asked[-1] == ["aa"] and len(inner.asked) == 3
    assert remembering.embed([]) == [] and len(inner.asked) == 3
