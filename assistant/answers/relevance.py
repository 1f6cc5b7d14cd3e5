"""Does a clause speak to *what was asked*? The relevance stage between retrieval and composition.

Retrieval finds reviews about the question's topic; a review about the topic still holds clauses
about other things (safe sleep in a review of a bruised baby, a GP-records recommendation, the
review's own method). Practitioners judged the clauses answers quote (evals/relevance.py,
evals/relevance_brief.md): only about a third spoke to the question. This stage scores each candidate
clause with the probability that such a reader would call it **on** the question, from features a
reader would also weigh:

- meaning: the clause's cosine with the question, and with the NSPCC label the question is most
  likely about (its definition and everyday phrasings, assistant/question/labels.py);
- words: the share of the question's own content words the clause carries, and of the expanded
  question's (hand vocabulary);
- where it stands: a review's learning, its recommendations, its summary of what happened, or a
  briefing or guidance page; whether its source carries the question's label; its source's rank;
- what it is: a general practice point the question does not ask about (information sharing,
  supervision, professional curiosity …), boilerplate about a review or a document itself, a fragment
  (cut mid-sentence, a lettered list item), web or news text (links, "said").

A logistic model over those features was fitted to the tuning split's judgements only
(``python -m evals.train_relevance --write`` writes records/tuned.toml [relevance]: the weights, the
thresholds and where they came from). Consumes the clauses' and the question's unit vectors and the
label's; produces one probability per clause. The thresholds say what an answer may quote
(``keep``), what may head a theme (``head``), and below which best score the collection is taken to
have little on the question (``little``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.retrieval.coverage import Topic
from records.errors import ConfigError
from records.text import stem_list, stems
from records.tuned import load_tuned
from records.types import Point
from vectorstore.embedder import Embedder, unit_vectors

UNLABELLED_COSINE = 0.35  # with no label read, a clause is kept at this cosine with the question

FEATURES = (
    "question",  # cosine with the question
    "label",  # cosine with the question's first inferred label (the question's own, when none)
    "question_gap",  # cosine with the question less the best candidate's (0 for the best)
    "label_gap",  # cosine with the label less the best candidate's
    "other_labels",  # best cosine with the second and third inferred labels
    "label_fit",  # label cosine × how near the label is to the question itself
    "own_words",  # share of the question's own content stems in the clause
    "expanded_words",  # expanded-question stems in the clause, up to 5, over 5
    "learning",
    "recommendation",
    "summary",  # a case review's account of what happened
    "carries_label",  # its source carries the question's first label (or no label describes it)
    "rank",  # its source's place in the ranking, over 10
    "practice",  # general practice terms the question does not use, up to 3, over 3
    "boilerplate",
    "fragment",
    "web",
    "short",  # fewer than 8 words
)

_PRACTICE = re.compile(
    r"\b(?:information[- ]sharing|shar(?:e|ed|ing) (?:of )?information|multi[- ]?agency|partnership working|supervision|"
    r"professional curiosity|curio|record[- ]?keeping|recording|chronolog\w*|training|escalat\w*|communicat\w*|"
    r"think family|working together|lived experience|voice of the child|child'?s voice|challenge|polic(?:y|ies)|procedures?|"
    r"assessments?|referrals?|threshold\w*|workforce|caseloads?|management oversight)\b",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"\b(?:this (?:review|report|briefing|guide|document|section|page)|the (?:review|report) (?:was|has|is|found that the)|"
    r"terms of reference|it explains|it sets out|the panel|published (?:by|on|in)|methodology|the author|learning from case reviews|"
    r"case reviews? (?:used|published)|national panel|rapid review|local child safeguarding practice review|serious case review)\b",
    re.IGNORECASE,
)
_FRAGMENT_END = re.compile(r"\b(?:to|of|the|and|or|for|with|a|an|in|on|by|that|which|whether|as|from|at)$", re.IGNORECASE)
_LETTERED = re.compile(r"^\(?[a-z]\)\s|^\(?[ivx]+\)\s")
_WEB = re.compile(r"\]\(|https?://|www\.|\bsaid\b|\bcookies?\b|\bclick\b|\bread more\b|\bsubscribe\b|©|\bnews\b", re.IGNORECASE)
_GENERIC = frozenset(
    stems("what did do does reviews review say says said find found case cases learn learning about were was kids children child")
)


def fragment(quote: str) -> bool:
    q = quote.strip()
    if q.count("(") != q.count(")") or q.count("[") != q.count("]"):
        return True
    return bool(_LETTERED.match(q) or _FRAGMENT_END.search(q) or q.startswith("•"))


@dataclass(frozen=True)
class Clause:
    """What the stage reads of one candidate: its text, its section and kind, and its source."""

    quote: str
    section: str
    kind: str  # the source's kind: case_review, briefing, …
    doc_id: str
    rank: int  # the source's place in the ranking, from 0


@dataclass(frozen=True)
class RelevanceModel:
    weights: tuple[float, ...]
    bias: float
    keep: float  # an answer quotes a clause only at this probability or above
    head: float  # … and heads a theme with one at this or above
    little: float  # below this best score over every candidate, the collection has little on the question
    most: int  # quotes an answer shows in all

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.weights, dtype=np.float32) + self.bias)))


@lru_cache(maxsize=4)
def load_model(path: Path | None = None) -> RelevanceModel:
    """The packaged model (records/tuned.toml [relevance]), or the one in the TOML file ``path`` (the
    same keys: ``bias``, ``[weights]``, ``[thresholds]``)."""
    if path is None:
        return model_from(load_tuned()["relevance"], "records/tuned.toml [relevance]")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"relevance_model: expected a TOML file with bias, [weights] and [thresholds] "
            f"like records/tuned.toml's [relevance], got {str(path)!r} ({exc})"
        ) from exc
    return model_from(data, repr(str(path)))


def model_from(data: Mapping[str, Any], where: str) -> RelevanceModel:
    w = data["weights"]
    missing = [f for f in FEATURES if f not in w]
    if missing:
        raise ConfigError(f"relevance_model {where}: expected a weight for every feature; missing {', '.join(missing)}")
    t = data["thresholds"]
    return RelevanceModel(
        tuple(float(w[f]) for f in FEATURES), float(data["bias"]), float(t["keep"]), float(t["head"]), float(t["little"]), int(t["most"])
    )


def features(
    question: str,
    topic: Topic,
    clauses: Sequence[Clause],
    clause_vectors: np.ndarray,
    question_vector: np.ndarray,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """One row of FEATURES per clause (vectors of length 1). ``reference``: which clauses are the
    candidates the gaps are measured from (all of them by default)."""
    own = set(stem_list(question)) - _GENERIC
    wide = stems(topic.expanded) - _GENERIC
    asked = {m.group(0).lower()[:6] for m in _PRACTICE.finditer(question)}
    n = len(clauses)
    q_sim = clause_vectors @ question_vector
    zero = np.zeros(n, dtype=np.float32)
    # With no NSPCC label read (an index of users' own documents carries none), the question itself
    # is the best description of its topic: its vector stands in for the label's.
    label_vector = topic.label_vector if topic.label_vector is not None else question_vector
    l_sim = clause_vectors @ label_vector
    others = (clause_vectors @ topic.other_vectors.T).max(axis=1) if topic.other_vectors is not None and len(topic.other_vectors) else zero
    fit = float(label_vector @ question_vector)
    ref = np.ones(n, dtype=bool) if reference is None or not reference.any() else reference
    q_best, l_best = float(q_sim[ref].max()), float(l_sim[ref].max())
    rows = []
    for c, qs, ls, os in zip(clauses, q_sim, l_sim, others, strict=True):
        words = set(stem_list(c.quote))
        practice = {m.group(0).lower()[:6] for m in _PRACTICE.finditer(c.quote)} - asked
        review = c.kind == "case_review"
        rows.append(
            (
                float(qs),
                float(ls),
                float(qs) - q_best,
                float(ls) - l_best,
                float(os),
                float(ls) * fit,
                len(words & own) / len(own) if own else 0.0,
                min(5, len(words & wide)) / 5,
                float((review and c.section == "learning") or not review),
                float(c.section == "recommendations"),
                float(review and c.section not in ("learning", "recommendations")),
                float(topic.on_label is None or c.doc_id in topic.on_label),
                min(c.rank, 20) / 10,
                min(3, len(practice)) / 3,
                float(bool(_BOILERPLATE.search(c.quote))),
                float(fragment(c.quote)),
                float(bool(_WEB.search(c.quote))),
                float(len(c.quote.split()) < 8),
            )
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(clauses), len(FEATURES))


def score(
    question: str,
    topic: Topic,
    clauses: Sequence[Clause],
    clause_vectors: np.ndarray,
    question_vector: np.ndarray,
    model: RelevanceModel | None = None,
) -> np.ndarray:
    """The probability that a practitioner would judge each clause on the question."""
    if not clauses:
        return np.zeros(0, dtype=np.float32)
    model = model or load_model()
    if topic.label is None:
        # No NSPCC label was read (an index of users' own documents carries none): the model was
        # fitted where one always is, so the question's cosine decides, scaled so that the threshold
        # falls at ``UNLABELLED_COSINE`` (a chosen default: no judged question lacks a label).
        q_sim = clause_vectors @ question_vector
        return np.clip(q_sim / UNLABELLED_COSINE * model.keep, 0.0, 1.0)
    return model.probabilities(features(question, topic, clauses, clause_vectors, question_vector))


def on_question(
    question: str, topic: Topic, points: Sequence[Point], rank: dict[str, int], embedder: Embedder, model: RelevanceModel
) -> list[Point]:
    """The points the stage judges on the question, most relevant first (what the trainer's prompts
    and briefings quote). ``rank``: each source's place in the question's ranking."""
    if not points:
        return []
    clauses = [Clause(p.quote, p.section, p.chunk.kind, p.hit.doc_id, rank.get(p.hit.doc_id, 20)) for p in points]
    vectors = unit_vectors(embedder, [question, *(p.quote for p in points)])
    probability = score(question, topic, clauses, vectors[1:], vectors[0], model)
    kept = sorted(((float(r), i) for i, r in enumerate(probability) if r >= model.keep), key=lambda t: (-t[0], t[1]))
    return [points[i] for _, i in kept]
