"""What the speed benchmarks share: the questions they ask (the same five everywhere, so their figures
compare) and how they read a percentile (nearest rank: a latency someone actually waited)."""

from __future__ import annotations

from collections.abc import Sequence

QUESTIONS = [
    "What did reviews say about bruising in non-mobile babies?",
    "young people groomed into county lines drug dealing",
    "unsafe sleep and co-sleeping after alcohol",
    "fathers and men who were not seen by professionals",
    "children educated at home or missing from school",
]


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]
