"""assistant/labels.py: every NSPCC label is described for reading by meaning, and a label's vector is
the centroid of its name's, definition's and phrasings' vectors (so any one of its phrasings brings a
question near it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.labels import LabelIndex, load_label_texts
from tests.helpers.fakes import FakeEmbedder


def test_every_label_has_a_definition_and_four_phrasings_in_other_words() -> None:
    described = load_label_texts()
    assert len(described) >= 380
    for label, text in described.items():
        assert text.definition.strip(), label
        assert len(text.phrasings) == 4, label
        assert all(p.strip() and p != label for p in text.phrasings), label


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
