"""The evaluation measures what it says: the sealed test split of generalise.jsonl is the one sealed
before any tuning, and nothing Casebook reads at run time (the NSPCC label phrasings) copies or
paraphrases an evaluation question."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.question.labels import load_label_texts
from evals.build_generalise_set import split_digest

DATASETS = Path(__file__).resolve().parents[1] / "evals" / "datasets"


def _rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATASETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _questions() -> list[str]:
    asked = {
        " ".join(str(row[key]).lower().split())
        for path in DATASETS.glob("*.jsonl")
        for row in _rows(path.name)
        for key in ("question", "text")
        if isinstance(row.get(key), str)
    }
    assert len(asked) > 400
    return sorted(asked)


def _phrasings() -> list[tuple[str, str]]:
    return [(label, p) for label, text in load_label_texts().items() for p in text.phrasings]


@pytest.mark.parametrize("split", ["tuning", "test"])
def test_the_splits_are_the_ones_sealed_before_tuning(split: str) -> None:
    seal = json.loads((DATASETS / "generalise.seal.json").read_text(encoding="utf-8"))
    assert split_digest(_rows("generalise.jsonl"), split) == seal[f"{split}_sha256"], f"the {split} split of generalise.jsonl changed"


def test_a_changed_test_question_breaks_the_seal() -> None:
    rows = _rows("generalise.jsonl")
    first = next(i for i, r in enumerate(rows) if r["split"] == "test")
    changed = [*rows[:first], {**rows[first], "question": str(rows[first]["question"]) + "?"}, *rows[first + 1 :]]
    assert split_digest(changed, "test") != split_digest(rows, "test")


def test_no_evaluation_question_is_copied_into_the_label_phrasings() -> None:
    asked = set(_questions())
    copied = [(label, p) for label, p in _phrasings() if " ".join(p.lower().split()) in asked]
    assert not copied, copied


@pytest.mark.slow
def test_no_label_phrasing_paraphrases_an_evaluation_question() -> None:
    # As for the off-topic examples: with the real model, no phrasing within cosine 0.8 of a question
    # of any evaluation set (the file was decontaminated at that line).
    from vectorstore.embedder import load_embedder, unit_vectors

    embedder = load_embedder()
    phrasings = _phrasings()
    nearest = (unit_vectors(embedder, [p for _, p in phrasings]) @ unit_vectors(embedder, _questions()).T).max(axis=1)
    close = [(label, p, round(float(s), 3)) for (label, p), s in zip(phrasings, nearest, strict=True) if s >= 0.8]
    assert not close, close
