"""assistant/question/labels.py: every NSPCC label is described for reading by meaning, and a label's vector is
the centroid of its name's, definition's and phrasings' vectors (so any one of its phrasings brings a
question near it), and the passages nearest a question can reorder the labels read from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.question.labels import LabelIndex, LabelSettings, load_label_texts
from tests.helpers.fakes import FakeEmbedder


def test_every_label_has_a_definition_and_phrasings_in_other_words() -> None:
    # Four phrasings each were written; those that paraphrased an evaluation question were removed
    # (tests/test_eval_hygiene.py), so a label keeps one to four.
    described = load_label_texts()
    assert len(described) >= 380
    for label, text in described.items():
        assert text.definition.strip(), label
        assert 1 <= len(text.phrasings) <= 4, label
        assert all(p.strip() and p != label for p in text.phrasings), label
    assert sum(len(t.phrasings) == 4 for t in described.values()) > 0.8 * len(described)


def test_a_label_vector_is_the_centroid_of_its_texts(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    index = LabelIndex({"doc-a": ["fractures"], "doc-b": ["a label nobody described"]}, embedder, tmp_path)
    described = load_label_texts()["fractures"]
    each = np.asarray(embedder.embed(["fractures", *described.texts]), dtype=np.float32)
    each /= np.linalg.norm(each, axis=1, keepdims=True)
    centroid = each.sum(axis=0) / np.linalg.norm(each.sum(axis=0))
    fractures = index.labels.index("fractures")
    assert np.allclose(index.vectors[fractures], centroid, atol=1e-5)
    # A label the file does not describe (a user's own keyword) is read by its name.
    own = index.labels.index("a label nobody described")
    assert index.texts[own] == ("a label nobody described",)
    # Every one of a label's phrasings is nearer to it than to the other label.
    for phrasing in described.phrasings:
        (label, _), *_ = index.by_meaning(embedder.embed([phrasing])[0], 2, -1.0)
        assert label == "fractures"


def test_label_vectors_are_cached_per_model_and_text(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    LabelIndex({"doc-a": ["fractures", "child neglect"]}, embedder, tmp_path)
    calls = embedder.calls
    again = LabelIndex({"doc-a": ["fractures", "child neglect"]}, embedder, tmp_path)
    assert embedder.calls == calls and again.vectors.shape[0] == 2


def test_the_passages_nearest_the_question_reorder_the_labels_taken_by_meaning(tmp_path: Path) -> None:
    index = LabelIndex({"doc-a": ["fractures"], "doc-b": ["bruises"], "doc-c": ["bruises"]}, FakeEmbedder(), tmp_path)
    by_meaning = [("fractures", 0.60), ("bruises", 0.58)]
    nearest = [("doc-b", 0.7), ("doc-c", 0.6), ("doc-a", 0.2)]  # the passages nearest are about bruises
    assert index.evidence("bruises", nearest, 2) == pytest.approx(0.65)
    assert index.evidence("fractures", nearest, 2) == pytest.approx(0.1)  # a missing passage counts 0
    by_cosine = index.infer(by_meaning, nearest, LabelSettings(evidence_weight=0.0))
    assert [i.label for i in by_cosine] == ["fractures", "bruises"]
    with_evidence = index.infer(by_meaning, nearest, LabelSettings(evidence_weight=0.25, evidence_top=2))
    assert [i.label for i in with_evidence] == ["bruises", "fractures"]
    assert with_evidence[0].score == pytest.approx(0.58 + 0.25 * 0.65)


def test_labels_no_document_carries_still_describe_the_domain(tmp_path: Path) -> None:
    # An index of users' own documents alone carries no NSPCC label; the refusal decision still
    # measures a question against every label the file describes.
    embedder = FakeEmbedder()
    described = load_label_texts()
    alone = LabelIndex({"my-notes": []}, embedder, tmp_path)
    assert alone.labels == [] and alone.absent_vectors.shape[0] == len(described)
    phrasing = described["fractures"].phrasings[0]
    q = embedder.embed([phrasing])[0]
    assert alone.topic_similarity(q, 0.0) > 0.3
    # With every described label carried, nothing is absent and the nearest carried label decides.
    full = LabelIndex({f"doc-{i}": [label] for i, label in enumerate(described)}, embedder, tmp_path)
    assert full.absent_vectors.shape[0] == 0
    assert full.topic_similarity(q, 0.42) == 0.42
