"""Retrieval metrics on hand-made rankings with known values."""

from __future__ import annotations

import math

import pytest

from evals.metrics import ndcg_at_k, recall_at_k, reciprocal_rank


def test_perfect_and_empty_rankings() -> None:
    assert ndcg_at_k(["a", "b"], {"a", "b"}) == 1.0
    assert ndcg_at_k(["x", "y"], {"a"}) == 0.0
    assert ndcg_at_k([], set()) == 0.0


def test_known_values() -> None:
    # relevant at ranks 2 and 3 of 3; ideal puts both at ranks 1 and 2
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(expected)
    assert recall_at_k(["x", "a", "b"], {"a", "b", "c", "d"}, 2) == 0.25
    assert reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)


def test_repeated_documents_count_once() -> None:
    assert reciprocal_rank(["x", "x", "a"], {"a"}) == 0.5
    assert ndcg_at_k(["a", "a", "b"], {"a", "b"}, 2) == 1.0
