"""When Casebook refuses: is the question answerable from what the collection holds?

A question shares generic words with the collection easily ("child", "baby", "school", "dose"), so
the similarity of its nearest passage alone cannot tell: "best pram for a newborn" is as close to a
review about newborns as "off school roll" is to one about children missing education. The decision
asks whether the question's *concept* is one the reviews are about, by meaning, and weighs two
distances against each other: how close the question comes to the nearest NSPCC topic label (each
label described by its plain-English definition and phrasings, assistant/question/labels.py), and how close
it comes to examples of questions the reviews do not answer (assistant/question/scope.py: medical dosing,
legal and benefits advice, everyday parenting, adult care, UK facts, …). A question is answerable
when it is nearer a covered topic than the off-topic examples by at least a margin. Near-domain
questions are close to a label ("care home fees" to "residential care"), but closer still to their
off-topic kind; terse in-scope searches ("postcode street crews") are far from every label, but
farther from the off-topic examples. A question that names a safeguarding concept from the
vocabulary (not merely a population such as "babies" or "teenagers"), or describes a live concern
about a child, needs only a weak passage match; one that names a source in the collection
(assistant/question/named.py) is answered from it.

Consumes a ``SearchResult``; produces the decision (``in_scope``) and the refusal ``Answer``, which
names the nearest topics the collection does cover and, when an off-topic kind is nearer than any
topic, what the question reads as (wording from prompts/answer.toml).

The constants were chosen on the tuning split of evals/datasets/generalise.jsonl (out-of-scope and
in-scope questions) together with evals/datasets/cases.jsonl, by ``python -m evals.tune_refusal``;
the sealed test split was not used. See the README for the figures on both.
"""

from __future__ import annotations

from assistant.answers.quotes import templates
from assistant.retrieval.ranking import SearchResult
from records.tuned import load_tuned
from records.types import Answer, Filters

# Answer when  label_similarity - OFF_TOPIC_WEIGHT * off_topic.similarity >= ANSWERABLE  (the
# nearest label against the mean of the nearest off-topic examples, scope.NEAREST of them), or when
# the question names a safeguarding concept or a live concern and its nearest passage reaches
# CONCEPT_FLOOR, or when its nearest passage alone reaches STRONG_PASSAGE (a near paraphrase). Chosen on the
# tuning split: among the settings that meet both rates, the one whose boundary can move furthest
# without missing either, the boundary at the middle of that range.
# The numbers: records/tuned.toml [refusal].
_TUNED = load_tuned()["refusal"]
OFF_TOPIC_WEIGHT = float(_TUNED["off_topic_weight"])
ANSWERABLE = float(_TUNED["answerable"])
CONCEPT_FLOOR = float(_TUNED["concept_floor"])
STRONG_PASSAGE = float(_TUNED["strong_passage"])


def margin(result: SearchResult) -> float:
    """How much nearer the question is to a topic the reviews cover than to what they do not."""
    return result.label_similarity - OFF_TOPIC_WEIGHT * result.off_topic.similarity


def reads_as(result: SearchResult) -> str:
    """The off-topic kind a refusal names: only when the question is nearer it than any topic."""
    return result.off_topic.kind if result.off_topic.similarity > result.label_similarity else ""


def in_scope(result: SearchResult, *, live_concern: bool = False) -> bool:
    """Is the question answerable from the collection? (See the module docstring.)"""
    if not result.hits:
        return False
    if result.named:  # "what did the Sutton review of Child X say about …": that review answers
        return True
    if margin(result) >= ANSWERABLE:
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
    reads_as: str = "",
) -> Answer:
    """``reads_as``: the kind of question the reviews do not answer that this one is nearest, when it
    is nearer that than any topic they cover."""
    t = templates()["refusal"]
    text = t["text"].format(reviews=reviews, years=years)
    if reads_as:
        text += " " + t["reads_as"].format(kind=reads_as)
    if nearest:
        text += " " + t["nearest"].format(labels=", ".join(nearest))
    return Answer(question=question, text=text, refused=True, safety_notice=notice, citations=(), sources=(), filters=filters)
