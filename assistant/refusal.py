"""When Casebook refuses: the collection holds nothing about the question.

Consumes a ``SearchResult`` (the evidence retrieval gathered); produces the decision (``in_scope``)
and the refusal ``Answer`` (wording from prompts/answer.toml).
"""

from __future__ import annotations

from assistant.answer import templates
from assistant.retrieve import SearchResult
from records.types import Answer, Filters

# Refuse rather than quote the nearest unrelated passage when the best passage's cosine similarity is
# below MIN_SIMILARITY and the question uses no safeguarding vocabulary (no vocabulary group, no NSPCC
# label), or below MIN_SIMILARITY_WITH_VOCABULARY even though it does. Calibrated on the bundled
# collection and evals/datasets/cases.jsonl: out-of-scope questions score 0.16–0.31 with no vocabulary;
# in-scope questions without vocabulary score above 0.52, with vocabulary above 0.31.
MIN_SIMILARITY = 0.40
MIN_SIMILARITY_WITH_VOCABULARY = 0.25


def in_scope(result: SearchResult) -> bool:
    """Is anything in the collection about this question? (See MIN_SIMILARITY.)"""
    floor = MIN_SIMILARITY_WITH_VOCABULARY if result.vocabulary else MIN_SIMILARITY
    return bool(result.hits) and result.similarity >= floor


def refusal(question: str, notice: str | None, filters: Filters, *, reviews: int = 361, years: str = "2019–2025") -> Answer:
    text = templates()["refusal"]["text"].format(reviews=reviews, years=years)
    return Answer(question=question, text=text, refused=True, safety_notice=notice, citations=(), sources=(), filters=filters)
