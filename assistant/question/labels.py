"""NSPCC's controlled vocabulary used by meaning: which labels is a question about?

Practitioners describe a concept without naming it ("a baby with broken bones", "asking what life was
like day to day for the child"); NSPCC's librarians labelled every review with the concept's name
("fractures", "voice of the child"). This module bridges the two in two ways, and fuses them:

- **by meaning**: each label is described in prompts/labels.toml by a one-line plain-English
  definition and four phrasings in everyday words (a practitioner's question, a trainer's theme, a
  short search, what it looks like in a case); the label's vector is the centroid of the vectors of
  its name, definition and phrasings, and a question's vector is compared with every label's;
- **by feedback from the best-matching reviews** (pseudo-relevance feedback): the labels that the
  question's nearest reviews share, weighted by how rare each label is in the collection (a label
  every other review carries says little).

Consumes the question's vector, the dense ranking of reviews, and each review's labels; produces
``InferredLabel`` records (shown to users, so they see why a review came up) and the reviews carrying
them, ranked. Label vectors are computed once per model and label file and cached on disk.
"""

from __future__ import annotations

import heapq
import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from prompts import FOLDER
from records.tuned import load_tuned
from vectorstore.embedder import Embedder, cached_vectors, unit_vectors

LABELS = FOLDER / "labels.toml"
_TUNED = load_tuned()["labels"]


@dataclass(frozen=True)
class LabelSettings:
    """How labels are inferred: records/tuned.toml [labels], chosen on the tuning split of the
    generalisation benchmark by evals/tune_retrieval.py (the section says what each measured)."""

    meaning_top: int = int(_TUNED["meaning_top"])  # labels taken by meaning
    meaning_floor: float = float(_TUNED["meaning_floor"])  # … whose cosine with the question is at least this
    feedback_docs: int = int(_TUNED["feedback_docs"])  # nearest reviews whose labels are pooled
    feedback_top: int = int(_TUNED["feedback_top"])  # labels taken from them
    # Weight of those feedback labels against meaning in a label's score (0: off, but measurable).
    feedback_weight: float = float(_TUNED["feedback_weight"])
    # How far the passages nearest the question support a label taken by meaning: the mean cosine of
    # the ``evidence_top`` nearest passages of reviews carrying it (missing ones count 0), times
    # ``evidence_weight``, is added to the label's cosine.
    evidence_weight: float = float(_TUNED["evidence_weight"])
    evidence_top: int = int(_TUNED["evidence_top"])


@dataclass(frozen=True)
class InferredLabel:
    label: str
    score: float
    how: str  # "meaning", "reviews" or "meaning+reviews"


@dataclass(frozen=True)
class LabelText:
    """How prompts/labels.toml describes one label."""

    definition: str
    phrasings: tuple[str, ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.definition, *self.phrasings)


@lru_cache(maxsize=1)
def load_label_texts(path: Path = LABELS) -> dict[str, LabelText]:
    """label (lower case) → its definition and phrasings."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return {str(row["name"]).lower(): LabelText(str(row["definition"]), tuple(map(str, row.get("phrasings", ())))) for row in data["label"]}


def _centroids(texts: Sequence[tuple[str, ...]], embedder: Embedder, cache_dir: Path | None) -> np.ndarray:
    """One unit vector per label: the centroid of its texts' vectors. (On the tuning split the
    centroid read the right label first for 66 % of questions, against 40 % for the name with its
    definition embedded as one text; the best single text per label did worse than the centroid, and
    leaving the name out cost the written-criteria set more than it gained: see the README.)"""
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    flat = [t for group in texts for t in group]

    def centroids() -> np.ndarray:
        each = unit_vectors(embedder, flat)
        starts = np.cumsum([0, *(len(group) for group in texts[:-1])])
        vectors = np.add.reduceat(each, starts, axis=0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        return vectors

    return cached_vectors(embedder, flat, cache_dir, "label", centroids)


class LabelIndex:
    """Every label in the index: its vector, its documents, its rarity."""

    def __init__(self, doc_labels: Mapping[str, Sequence[str]], embedder: Embedder, cache_dir: Path | None = None) -> None:
        self.doc_labels = {d: frozenset(k.lower() for k in ks) for d, ks in doc_labels.items() if ks}
        self.docs_of: dict[str, set[str]] = {}
        for doc, labels in self.doc_labels.items():
            for label in labels:
                self.docs_of.setdefault(label, set()).add(doc)
        self.labels = sorted(self.docs_of)
        n = max(1, len(self.doc_labels))
        self.idf = {label: math.log((n + 1) / (len(docs) + 0.5)) for label, docs in self.docs_of.items()}
        described = load_label_texts()
        # A label is read from its name, definition and phrasings; one the file does not describe (a
        # user's own keyword), from its name alone.
        self.texts = [(label, *described[label].texts) if label in described else (label,) for label in self.labels]
        self.vectors = _centroids(self.texts, embedder, cache_dir)
        # Labels the file describes that no document here carries still say what the domain is about:
        # an index of users' own documents alone has no NSPCC labels, yet a question about bruising
        # is no less answerable from it (``topic_similarity``, for the refusal decision).
        absent = [(label, *text.texts) for label, text in sorted(described.items()) if label not in self.docs_of]
        self.absent_vectors = _centroids(absent, embedder, cache_dir)

    def vector(self, label: str) -> np.ndarray | None:
        """A label's unit vector (its name, definition and phrasings), or None for a label not here."""
        try:
            return self.vectors[self.labels.index(label)]
        except ValueError:
            return None

    def topic_similarity(self, vector: Sequence[float], nearest: float) -> float:
        """The cosine of the nearest label, carried by the index or only described; ``nearest``: that
        of the nearest label the index carries (``by_meaning``'s first), already computed."""
        if not len(self.absent_vectors):
            return nearest
        q = np.asarray(vector, dtype=np.float32)
        return max(nearest, float((self.absent_vectors @ (q / (np.linalg.norm(q) + 1e-12))).max()))

    def read(
        self, vector: Sequence[float], nearest_docs: Sequence[tuple[str, float]], s: LabelSettings, shown: int
    ) -> tuple[list[tuple[str, float]], list[InferredLabel], float]:
        """The question's labels in one reading: the nearest by meaning (at least ``shown``, nearest
        first), those inferred (``infer``), and the cosine of the nearest label, carried or only
        described (``topic_similarity``). ``nearest_docs``: as ``infer``'s ``nearest``."""
        nearest = self.by_meaning(vector, max(shown, s.meaning_top), -1.0)
        inferred = self.infer(nearest, nearest_docs, s)
        return nearest, inferred, self.topic_similarity(vector, nearest[0][1] if nearest else 0.0)

    def by_meaning(self, vector: Sequence[float], top: int, floor: float) -> list[tuple[str, float]]:
        if not self.labels:
            return []
        q = np.asarray(vector, dtype=np.float32)
        q /= np.linalg.norm(q) + 1e-12
        sims = self.vectors @ q
        order = np.argsort(-sims)[:top]
        return [(self.labels[i], float(sims[i])) for i in order if sims[i] >= floor]

    def from_reviews(self, docs: Sequence[str], top: int) -> list[tuple[str, float]]:
        """Labels the given (best-first) reviews share, weighted by rank and rarity."""
        weights: dict[str, float] = defaultdict(float)
        for rank, doc in enumerate(docs):
            for label in self.doc_labels.get(doc, ()):
                weights[label] += self.idf[label] / (rank + 2)
        if not weights:
            return []
        best = max(weights.values())
        return [(label, w / best) for label, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]

    def evidence(self, label: str, nearest: Sequence[tuple[str, float]], top: int) -> float:
        """The mean cosine of the ``top`` nearest passages among reviews carrying ``label`` (0 for
        each one missing). ``nearest``: documents nearest first, each with its best passage's cosine."""
        docs = self.docs_of.get(label, set())
        found = [score for doc, score in nearest if doc in docs][:top]
        return sum(found) / top if top else 0.0

    def infer(self, by_meaning: Sequence[tuple[str, float]], nearest: Sequence[tuple[str, float]], s: LabelSettings) -> list[InferredLabel]:
        """``by_meaning``: the question's labels nearest first (``by_meaning`` with no floor), so that
        one comparison with every label serves both this and the refusal decision. ``nearest``: the
        documents nearest the question, best first, each with its best passage's cosine."""
        meaning = {label: sim for label, sim in by_meaning[: s.meaning_top] if sim >= s.meaning_floor}
        if s.evidence_weight > 0:
            meaning = {label: sim + s.evidence_weight * self.evidence(label, nearest, s.evidence_top) for label, sim in meaning.items()}
        order = [doc for doc, _ in nearest]
        reviews = dict(self.from_reviews(order[: s.feedback_docs], s.feedback_top)) if s.feedback_weight > 0 else {}
        out = []
        for label in dict.fromkeys([*meaning, *reviews]):
            how = "+".join(k for k, d in (("meaning", meaning), ("reviews", reviews)) if label in d)
            out.append(InferredLabel(label, meaning.get(label, 0.0) + s.feedback_weight * reviews.get(label, 0.0), how))
        return sorted(out, key=lambda x: -x.score)

    def rank_documents(
        self,
        inferred: Sequence[InferredLabel],
        order: Sequence[str],
        allowed: np.ndarray | None = None,
        position: Mapping[str, int] | None = None,
        top: int | None = None,
    ) -> list[str]:
        """Documents carrying the inferred labels, by the summed score of the labels they carry, the
        given order (dense ranking) breaking ties, best ``top`` only. Documents NSPCC never labelled
        (users' files, the briefing, guidance) cannot be judged by labels: they keep their place from
        ``order``, so a label list never buries them. ``allowed``: a boolean per document (by
        ``position``, the document → index map) saying which the filters allow."""
        scores: dict[str, float] = defaultdict(float)
        for item in inferred:
            for doc in self.docs_of.get(item.label, ()):
                if allowed is None or position is None or allowed[position[doc]]:
                    scores[doc] += item.score
        place = {d: i for i, d in enumerate(order)}

        def key(d: str) -> tuple[float, int, str]:
            return (-scores[d], place.get(d, len(place)), d)

        # Only the best ``top`` are needed: a partial sort, not a sort of every labelled document.
        ranked = sorted(scores, key=key) if top is None or top >= len(scores) else heapq.nsmallest(top, scores, key=key)
        for i, doc in enumerate(order):
            if doc not in self.doc_labels:
                ranked.insert(min(i, len(ranked)), doc)
        return ranked if top is None else ranked[:top]
