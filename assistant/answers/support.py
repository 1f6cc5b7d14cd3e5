"""Does a passage support a statement? The ``Judge`` interface and the offline judge.

Used by the generative path's grounding guard (assistant/answers/guard.py) and by the evaluation suite.

No NLI model can be installed offline here, so ``OverlapJudge`` combines what is available: the
cosine similarity of MiniLM embeddings of statement and evidence, and the share of the statement's
content words (first six letters) that the evidence contains. score = w·cosine + (1 − w)·coverage;
a statement is supported when score ≥ threshold. Weight and threshold live in records/tuned.toml [support] and
are calibrated by ``python -m evals.calibrate`` on evals/datasets/support_labels.jsonl, a hand-labelled
set; an LLM judge (the Generative issue) plugs into the same interface.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from records.text import stems
from records.tuned import load_tuned
from vectorstore.embedder import Embedder

_MARKERS = re.compile(r"\[\d+\]")


class Judge(Protocol):
    name: str

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...

    def verdicts(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Is each (statement, evidence) pair supported? One batch, so one embedding call."""
        ...

    def supports(self, statement: str, evidence: str) -> bool: ...


def clean_statement(statement: str) -> str:
    return _MARKERS.sub("", statement).strip()


def coverage(statement: str, evidence: str) -> float:
    s = stems(statement)
    return len(s & stems(evidence)) / len(s) if s else 0.0


@dataclass(frozen=True)
class JudgeConfig:
    weight: float
    threshold: float


def load_config() -> JudgeConfig:
    """The judge's weight and threshold: records/tuned.toml [support]."""
    data = load_tuned()["support"]
    return JudgeConfig(weight=float(data["weight"]), threshold=float(data["threshold"]))


class OverlapJudge:
    name = "overlap+minilm"

    def __init__(self, embedder: Embedder, config: JudgeConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or load_config()

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        statements = [clean_statement(s) for s, _ in pairs]
        vectors = self.embedder.embed([*statements, *(e for _, e in pairs)])
        n = len(pairs)
        out = []
        for i, (statement, (_, evidence)) in enumerate(zip(statements, pairs, strict=True)):
            cos = sum(a * b for a, b in zip(vectors[i], vectors[n + i], strict=True))
            w = self.config.weight
            out.append(w * cos + (1 - w) * coverage(statement, evidence))
        return out

    def verdicts(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return [score >= self.config.threshold for score in self.scores(pairs)]

    def supports(self, statement: str, evidence: str) -> bool:
        return self.verdicts([(statement, evidence)])[0]
