"""What the collection does not cover, by meaning: the off-topic side of the refusal decision.

A question near the domain in its words ("how much Calpol for a 2 year old", "care home fees for my
mum", "school term dates") comes close to some NSPCC label by meaning, because labels such as
"health", "schools" or "family finance" exist; how close it comes to a label cannot alone tell it from
a terse in-scope search ("postcode street crews"). What tells them apart is what else the question
is near. prompts/off_topic.toml holds examples of questions the reviews do not answer, by kind
(medical dosing, legal and benefits advice, everyday parenting, adult care, school admin, UK facts,
the charity's own pages, the unrelated pages the scrape contained, …), written independently of the
evaluation sets. A question's off-topic similarity is the mean cosine of its ``NEAREST`` nearest
examples; assistant/answers/refusal.py weighs it against the nearest label.

Consumes the question's vector; produces an ``OffTopic`` (that similarity and the kind of the nearest
example, named in a refusal). Example vectors are computed once per model and file, cached on disk.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from prompts import FOLDER
from records.tuned import load_tuned
from vectorstore.embedder import Embedder, cached_vectors, unit_vectors

OFF_TOPIC = FOLDER / "off_topic.toml"

# How many nearest examples are averaged: one example alone is noisy (a stray word can bring any
# question near one), many blur the kinds together. Chosen on the tuning split with the refusal
# constants by ``python -m evals.tune_refusal`` (records/tuned.toml [refusal]).
NEAREST = int(load_tuned()["refusal"]["off_topic_nearest"])


@dataclass(frozen=True)
class Example:
    kind: str
    text: str


@dataclass(frozen=True)
class OffTopic:
    similarity: float  # mean cosine of the NEAREST nearest off-topic examples
    kind: str  # the kind of the nearest one ("" when there are no examples)


NOT_MEASURED = OffTopic(0.0, "")


@lru_cache(maxsize=4)
def load_examples(path: Path = OFF_TOPIC) -> tuple[Example, ...]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return tuple(Example(str(kind["name"]), str(text)) for kind in data["kind"] for text in kind["examples"])


class OffTopicIndex:
    """Every off-topic example's vector, and the nearest ones to a question."""

    def __init__(self, embedder: Embedder, cache_dir: Path | None = None, examples: Sequence[Example] | None = None) -> None:
        self.examples = tuple(load_examples() if examples is None else examples)
        texts = [e.text for e in self.examples]
        self.vectors = cached_vectors(embedder, texts, cache_dir, "off-topic", lambda: unit_vectors(embedder, texts)) if texts else None

    def similarities(self, vector: Sequence[float]) -> np.ndarray:
        """The question's cosine with every example, in file order."""
        if self.vectors is None:
            return np.zeros(0, dtype=np.float32)
        q = np.asarray(vector, dtype=np.float32)
        return self.vectors @ (q / (np.linalg.norm(q) + 1e-12))

    def nearest(self, vector: Sequence[float], k: int = NEAREST) -> OffTopic:
        sims = self.similarities(vector)
        if not len(sims):
            return NOT_MEASURED
        return OffTopic(mean_of_nearest(sims, k), self.examples[int(np.argmax(sims))].kind)


def mean_of_nearest(sims: np.ndarray, k: int) -> float:
    """The mean of the ``k`` largest values (all of them when there are fewer)."""
    k = max(1, min(k, len(sims)))
    return float(np.partition(sims, len(sims) - k)[-k:].mean())
