"""The vectors of every quote the index offers, computed when it is indexed and kept beside it.

The relevance stage embeds each answer's 30–60 candidate clauses (assistant/answers/relevance.py), and
that was most of an answer's time. The clauses are verbatim quotes of indexed passages
(``quotes.quotes_of``), so their vectors depend only on the index and the model: ``remember_quotes``
embeds every quote of every indexed passage after an ingest (the bundled collection: about 4,000) and
writes them to the index's cache folder; ``clause_embedder`` opens an embedder that starts out knowing
them, so a process's first question is as quick as its later ones. The file is an aid to speed, never
to correctness: a quote it lacks (a passage indexed since) is embedded when asked, a file written by
another model is ignored, and a missing or unreadable one means starting cold.

Consumes the retriever's passages and the embedder; produces ``<home>/cache/quote-vectors.npz``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.answers.quotes import quotes_of
from assistant.answers.themes import embed_short
from assistant.retrieval.ranking import Retriever
from vectorstore.embedder import Embedder, RememberingEmbedder

log = logging.getLogger(__name__)
FILE = "quote-vectors.npz"


def _read(path: Path, model: str) -> tuple[list[str], np.ndarray]:
    """The texts and vectors kept at ``path`` for ``model``; none when absent, unreadable or another model's."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["model"]) != model:
                return [], np.zeros((0, 0), np.float32)
            texts = [str(t) for t in data["texts"]]
            vectors = data["vectors"].astype(np.float32)
    except FileNotFoundError:
        return [], np.zeros((0, 0), np.float32)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("the kept quote vectors at %s could not be read (%s): answers embed their quotes as they go", path, exc)
        return [], np.zeros((0, 0), np.float32)
    if len(texts) != len(vectors):
        log.warning("the kept quote vectors at %s are inconsistent: answers embed their quotes as they go", path)
        return [], np.zeros((0, 0), np.float32)
    return texts, vectors


def remember_quotes(retriever: Retriever, embedder: Embedder, cache_dir: Path) -> int:
    """Embed every quote of the indexed passages that the kept file lacks and write the file afresh
    (quotes of passages no longer indexed are dropped). Returns how many quotes it holds. A failure
    to write is logged, not raised: the index itself is complete without it."""
    texts = sorted({q for chunks in retriever.chunks_of(list(retriever.catalog.doc_ids)).values() for c in chunks for q in quotes_of(c)})
    path = cache_dir / FILE
    model = str(embedder.name)
    old_texts, old_vectors = _read(path, model)
    kept = {t: v for t, v in zip(old_texts, old_vectors, strict=True)}
    missing = [t for t in texts if t not in kept]
    if not missing and old_texts == texts:  # unchanged (an ingest that found nothing new): nothing to write
        return len(texts)
    if missing:
        kept.update(zip(missing, np.asarray(embed_short(missing, embedder.embed), dtype=np.float32), strict=True))
    vectors = np.stack([kept[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
    tmp: str | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".quote-vectors-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, model=np.asarray(model), texts=np.asarray(texts, dtype=str), vectors=vectors)
        os.chmod(tmp, 0o644)  # as the other caches beside it (a temporary file is made owner-only)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("the quote vectors could not be kept at %s (%s): answers will embed their quotes as they go", path, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return len(texts)


def keep_quotes(cache_dir: Path, parts: Callable[[], tuple[Retriever, Embedder]], say: Callable[[str], None] | None = None) -> None:
    """``remember_quotes`` for an index whose quotes' vectors were never kept (one indexed before they
    were). ``parts`` opens the retriever and the embedder, only then: with the file kept, nothing is opened."""
    if (cache_dir / FILE).exists():
        return
    if say:
        say("keeping the vectors of the index's quotes, once, so answers need not embed them (under a minute)")
    remember_quotes(*parts(), cache_dir)


def clause_embedder(embedder: Embedder, cache_dir: Path) -> RememberingEmbedder:
    """An embedder that remembers what it embeds, starting out knowing the kept quote vectors."""
    remembering = RememberingEmbedder(embedder)
    texts, vectors = _read(cache_dir / FILE, str(embedder.name))
    if texts:
        remembering.remember(texts, vectors)
    return remembering
