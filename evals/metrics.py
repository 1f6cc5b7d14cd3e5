"""Retrieval metrics at review level, with binary relevance.

- recall@k: the share of the relevant reviews found in the first k results.
- MRR: 1 / the rank of the first relevant review (0 when none is found), averaged over questions.
- nDCG@k: DCG = Σ rel_i / log2(i + 1) over the first k ranks, divided by the DCG of the ideal
  ranking (all relevant reviews first); rel_i is 1 for a relevant review and 0 otherwise.

Rankings are lists of document ids, best first, each id once (the first passage of a review
counts; later passages of the same review are dropped before scoring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def dedupe(ranking: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranking))


def recall_at_k(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(dedupe(ranking)[:k]) & relevant) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], relevant: set[str]) -> float:
    for i, doc in enumerate(dedupe(ranking), 1):
        if doc in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: set[str], k: int = 10) -> float:
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, doc in enumerate(dedupe(ranking)[:k], 1) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal
