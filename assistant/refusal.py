"""When Casebook refuses: is the question answerable from what the collection holds?

A question shares generic words with the collection easily ("child", "baby", "school", "dose"), so
the similarity of its nearest passage alone cannot tell: "best pram for a newborn" is as close to a
review about newborns as "off school roll" is to one about children missing education. The decision
asks whether the question's *concept* is one the reviews are about, by meaning: how close the
question comes to the nearest NSPCC topic label (each label described by its plain-English
definition and phrasings, assistant/labels.py), together with its nearest passage. A question that
names a safeguarding concept from the vocabulary (not merely a population such as "babies" or
"teenagers"), or describes a live concern about a child, needs only a weak passage match; one that
names a source in the collection (assistant/named.py) is answered from it.

Consumes a ``SearchResult``; produces the decision (``in_scope``) and the refusal ``Answer``, which
names the nearest topics the collection does cover (wording from prompts/answer.toml).

The constants were chosen on the tuning split of evals/datasets/generalise.jsonl (out-of-scope and
in-scope questions) together with evals/datasets/cases.jsonl, by ``python -m evals.tune_refusal``;
the sealed test split was not used. See the README for the figures on both.
"""

from __future__ import annotations

from assistant.answer import templates
from assistant.retrieve import SearchResult
from records.types import Answer, Filters

# Answer when  label_similarity + SIMILARITY_WEIGHT * similarity >= ANSWERABLE  (a logistic model's
# boundary, fitted on the tuning split; since labels are read from their phrasings too, the nearest
# label alone separates the split best and the passage's weight came out 0), or when the question
# names a safeguarding concept or a live concern and its nearest passage reaches CONCEPT_FLOOR, or
# when its nearest passage alone reaches STRONG_PASSAGE (a question about a particular review by name).
SIMILARITY_WEIGHT = 0.0
ANSWERABLE = 0.520
CONCEPT_FLOOR = 0.20
STRONG_PASSAGE = 0.52


def in_scope(result: SearchResult, *, live_concern: bool = False) -> bool:
    """Is the question answerable from the collection? (See the module docstring.)"""
    if not result.hits:
        return False
    if result.named:  # "what did the Sutton review of Child X say about …": that review answers
        return True
    if result.label_similarity + SIMILARITY_WEIGHT * result.similarity >= ANSWERABLE:
        return True
    if (result.concepts or live_concern) and result.similarity >= CONCEPT_FLOOR:
        return True
    return result.similarity >= STRONG_PASSAGE


def refusal(
    question: str,
    notice: str | None,
    filters: Filters,
    *,
    reviews: int = 361,
    years: str = "2019–2025",
    nearest: tuple[str, ...] = (),
) -> Answer:
    t = templates()["refusal"]
    text = t["text"].format(reviews=reviews, years=years)
    if nearest:
        text += " " + t["nearest"].format(labels=", ".join(nearest))
    return Answer(question=question, text=text, refused=True, safety_notice=notice, citations=(), sources=(), filters=filters)
