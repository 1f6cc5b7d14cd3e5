"""assistant/question/scope.py: examples of questions the reviews do not answer, and how near a question is to
them; and the example file itself, which must stay independent of the evaluation sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.question.scope import Example, OffTopicIndex, load_examples, mean_of_nearest
from evals.run import read_jsonl
from tests.helpers.fakes import FakeEmbedder

DATASETS = Path(__file__).resolve().parents[1] / "evals" / "datasets"

EXAMPLES = (
    Example("medicines", "calpol dose toddler"),
    Example("medicines", "ibuprofen dose for a child"),
    Example("benefits", "child benefit rates this year"),
    Example("benefits", "universal credit childcare costs"),
)


def test_the_nearest_examples_are_averaged_and_the_nearest_kind_named(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    index = OffTopicIndex(embedder, tmp_path, EXAMPLES)
    q = embedder.embed(["calpol dose toddler"])[0]
    sims = index.similarities(q)
    assert sims.shape == (4,) and sims[0] == pytest.approx(1.0, abs=1e-5)
    found = index.nearest(q, k=2)
    assert found.kind == "medicines"
    assert found.similarity == pytest.approx(float(np.sort(sims)[-2:].mean()), abs=1e-6)
    assert index.nearest(embedder.embed(["child benefit rates"])[0], k=1).kind == "benefits"


def test_mean_of_nearest_takes_the_k_largest() -> None:
    sims = np.array([0.1, 0.9, 0.5, 0.7], dtype=np.float32)
    assert mean_of_nearest(sims, 1) == pytest.approx(0.9)
    assert mean_of_nearest(sims, 2) == pytest.approx(0.8)
    assert mean_of_nearest(sims, 10) == pytest.approx(0.55)  # fewer than k: all of them


def test_example_vectors_are_cached_per_model_and_texts(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    first = OffTopicIndex(embedder, tmp_path, EXAMPLES)
    assert embedder.calls == 1 and len(list(tmp_path.glob("off-topic-vectors-*.npy"))) == 1
    again = OffTopicIndex(embedder, tmp_path, EXAMPLES)
    assert embedder.calls == 1 and np.array_equal(first.vectors, again.vectors)  # type: ignore[arg-type]
    OffTopicIndex(embedder, tmp_path, (*EXAMPLES, Example("benefits", "council tax bands")))
    assert embedder.calls == 2 and len(list(tmp_path.glob("off-topic-vectors-*.npy"))) == 2


def test_no_examples_means_nothing_is_off_topic(tmp_path: Path) -> None:
    index = OffTopicIndex(FakeEmbedder(), tmp_path, ())
    found = index.nearest([1.0, 0.0])
    assert (found.similarity, found.kind) == (0.0, "")


def test_the_example_file_covers_the_near_domain_kinds() -> None:
    examples = load_examples()
    kinds: dict[str, int] = {}
    for e in examples:
        assert e.text.strip() == e.text and e.text, e
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    assert len(kinds) >= 10 and min(kinds.values()) >= 20, kinds
    assert len({e.text.lower() for e in examples}) == len(examples), "an example is repeated"


def _questions(path: Path) -> set[str]:
    return {" ".join(row[key].lower().split()) for row in read_jsonl(path) for key in ("question", "text") if isinstance(row.get(key), str)}


def test_no_evaluation_question_is_copied_into_the_examples() -> None:
    # The examples are the off-topic side of the refusal decision; one copied from an evaluation set
    # would make that set's refusal figure a lookup, not a measurement.
    asked = set().union(*(_questions(p) for p in DATASETS.glob("*.jsonl")))
    assert len(asked) > 400
    copied = [e.text for e in load_examples() if " ".join(e.text.lower().split()) in asked]
    assert not copied, copied


@pytest.mark.slow
def test_no_example_paraphrases_an_evaluation_question() -> None:
    # Word for word is not enough: with the real model, no example may come within cosine 0.8 of a
    # question of any evaluation set (the file was decontaminated at that line).
    from vectorstore.embedder import load_embedder, unit_vectors

    embedder = load_embedder()
    asked = sorted(set().union(*(_questions(p) for p in DATASETS.glob("*.jsonl"))))
    examples = load_examples()
    nearest = (unit_vectors(embedder, asked) @ unit_vectors(embedder, [e.text for e in examples]).T).max(axis=0)
    close = [(e.text, round(float(s), 3)) for e, s in zip(examples, nearest, strict=True) if s >= 0.8]
    assert not close, close
