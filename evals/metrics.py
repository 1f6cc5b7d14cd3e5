"""Retrieval metrics at review level, with binary relevance.

- recall@k: the share of the relevant reviews found in the first k results.
- MRR: 1 / the rank of the first relevant review (0 when none is found), averaged over questions.
- nDCG@k: DCG = Σ rel_i / log2(i + 1) over the first k ranks, divided by the DCG of the ideal
  ranking (all relevant reviews first); rel_i is 1 for a relevant review and 0 otherwise.

Rankings are lists of document ids, best first, each id once (the first passage of a review
counts; later passages of the same review are dropped before scoring).

Answer metrics (citation validity, ALCE citation recall and precision) are defined further down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


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


# --- Answers: citation validity and ALCE-style citation support (Gao et al. 2023) -------------------
#
# A statement is one line of the answer after the overview line (the overview, "N reviews … [1]…[N]",
# is a claim about the retrieval, checked structurally by ``overview_consistent``).
# - validity: every [n] resolves to a listed citation, and every citation's quote is a verbatim
#   substring of its passage.
# - support recall: the share of statements that their cited passages, together, support; a statement
#   with no valid citation is unsupported.
# - support precision: the share of citation markers that are needed: a citation counts when it alone
#   supports its statement, or when the statement is supported with it and not without it. Markers
#   that point nowhere count against precision.

MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Cited:
    """What the metrics need of a citation: its number, quote, and the passage it came from."""

    n: int
    quote: str
    evidence: str  # heading + passage: what the judge reads


@dataclass
class SupportResult:
    statements: int = 0
    supported: int = 0
    markers: int = 0
    needed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.supported / self.statements if self.statements else 1.0

    @property
    def precision(self) -> float:
        return self.needed / self.markers if self.markers else 1.0


def statements_of(answer_text: str) -> list[str]:
    lines = [line.strip() for line in answer_text.split("\n") if line.strip()]
    return lines[1:] if len(lines) > 1 else lines


def citation_validity(answer_text: str, citations: Sequence[Cited], passages: dict[int, str]) -> list[str]:
    """Problems found (empty when valid): markers that resolve nowhere, quotes not verbatim."""
    problems = []
    numbers = {c.n for c in citations}
    for m in MARKER.finditer(answer_text):
        if int(m.group(1)) not in numbers:
            problems.append(f"[{m.group(1)}] points to no citation")
    for c in citations:
        passage = passages.get(c.n, "")
        if not c.quote or c.quote not in passage:
            problems.append(f"quote [{c.n}] is not verbatim in its passage")
    return problems


def alce_support(answer_text: str, citations: Sequence[Cited], score: Callable[[list[tuple[str, str]]], list[bool]]) -> SupportResult:
    """ALCE citation recall and precision of one answer, with ``score`` as the support judge
    (it takes (statement, evidence) pairs and says which are supported)."""
    by_n = {c.n: c for c in citations}
    result = SupportResult()
    plans: list[tuple[str, list[int], list[int]]] = []
    pairs: list[tuple[str, str]] = []
    for statement in statements_of(answer_text):
        marks = [int(m) for m in MARKER.findall(statement)]
        valid = [n for n in dict.fromkeys(marks) if n in by_n]
        result.statements += 1
        result.markers += len(marks)
        plans.append((statement, marks, valid))
        if valid:
            pairs.append((statement, "\n".join(by_n[n].evidence for n in valid)))
            for n in valid:
                pairs.append((statement, by_n[n].evidence))
                if len(valid) > 1:
                    pairs.append((statement, "\n".join(by_n[o].evidence for o in valid if o != n)))
    verdicts = iter(score(pairs)) if pairs else iter(())
    for statement, marks, valid in plans:
        if not marks:
            result.problems.append(f"uncited statement: {statement[:80]!r}")
            continue
        if not valid:
            result.problems.append(f"statement cites nothing that exists: {statement[:80]!r}")
            continue
        together = next(verdicts)
        if together:
            result.supported += 1
        else:
            result.problems.append(f"unsupported by its citations: {statement[:80]!r}")
        for n in valid:
            alone = next(verdicts)
            without = next(verdicts) if len(valid) > 1 else False
            if alone or (together and not without):
                result.needed += 1
            else:
                result.problems.append(f"citation [{n}] is not needed for: {statement[:60]!r}")
    return result


def overview_consistent(answer_text: str, citations: Sequence[Cited]) -> bool:
    """The overview line cites exactly the answer's citations, in order."""
    lines = [line for line in answer_text.split("\n") if line.strip()]
    if not lines:
        return False
    return [int(m) for m in MARKER.findall(lines[0])] == [c.n for c in citations]


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
