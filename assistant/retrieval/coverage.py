"""What a question is about, and how many reviews in the whole collection discuss it.

Consumes a ``SearchResult`` and the retriever's label index and catalog; produces the ``Topic`` the
relevance stage scores passages against, and the ``Coverage`` line an answer opens with ("N reviews in
the collection discuss this topic"), counted from the NSPCC labels the question names or, read by
meaning, only when the label truly fits it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.retrieval.ranking import Retriever, SearchResult
from assistant.retrieval.vocabulary import matched_groups, read_vocabulary
from records.tuned import load_tuned
from records.types import AGE_BANDS, Chunk, Coverage, Filters

# A coverage count comes from a label read by meaning only when the label is close to the question
# (COUNT_LABEL_FLOOR: its cosine with the label's name, definition and phrasings) and not broad (carried
# by more than BROAD_LABEL of the reviews); a second inferred label counts too when this near the first
# (COVERAGE_LABEL_MARGIN). Chosen by hand on the tuning sample: records/tuned.toml [coverage].
_TUNED = load_tuned()["coverage"]
COUNT_LABEL_FLOOR = float(_TUNED["count_label_floor"])
BROAD_LABEL = float(_TUNED["broad_label"])
COVERAGE_LABEL_MARGIN = float(_TUNED["label_margin"])


@dataclass(frozen=True)
class Topic:
    """What the stage knows of the question besides its own words: the question expanded with the
    hand vocabulary, and the NSPCC label it is most likely about (its vector and the sources that
    carry it, unlabelled sources included; None when no label was read)."""

    expanded: str
    label: str | None = None
    label_vector: np.ndarray | None = None
    on_label: frozenset[str] | None = None
    other_vectors: np.ndarray | None = None  # the second and third inferred labels'


def covering(retriever: Retriever, question: str, result: SearchResult, filters: Filters, found: Sequence[str]) -> tuple[list[Chunk], str]:
    """The reviews in the whole collection (under ``filters``) that discuss the question's topic,
    as their first chunks, and how they were counted: those carrying the NSPCC labels the
    question names and means (``named_labels``), else the label read from it by meaning (the
    nearest, and a second as near), in the age band of a vocabulary group it uses ("non-mobile" →
    under 1); with no label at all, the reviews ``found`` for it by their text. (A vocabulary
    group's own label list is a retrieval aid, too broad to count by.)"""
    groups = matched_groups(question)
    named = named_labels(retriever, question, result)
    # A broad label named beside a precise one is an aspect of the topic, not the topic ("professional
    # curiosity about fathers": the fathers' labels count, not the curiosity label of a seventh of all
    # reviews); named alone ("what about neglect?") it is the topic, and counts.
    named = {n for n in named if not _broad(retriever, n)} or named
    # A label the question names counts with the labels that narrow it ("neglect" → "child
    # neglect", "medical neglect"): NSPCC's librarians used both.
    labels = {k for k, words in retriever._label_words.items() if any(retriever._label_words.get(n, frozenset()) <= words for n in named)}
    labels |= named
    how = "reviews carrying the NSPCC labels the question names"
    if not named and result.inferred:
        top = result.inferred[0].score
        labels = {i.label for i in result.inferred[:2] if i.score >= top - COVERAGE_LABEL_MARGIN}
        # A broad label beside a precise one ("child deaths" beside "fire") would swamp the count.
        labels = {label for label in labels if not _broad(retriever, label)} or labels
        how = "reviews carrying the NSPCC labels read from the question by meaning"
    bands = {g.age_band for g in groups if g.age_band}
    if labels:

        def fits(c: Chunk) -> bool:
            if c.kind != "case_review" or not filters.matches(c):
                return False
            return not bands or c.meta.age_band in bands or c.meta.age_band == "multiple/unknown"

        # The label → documents map, not a scan of every document: this runs on every answer.
        carrying = set().union(*(retriever.label_index.docs_of.get(label, ()) for label in labels))
        firsts = [first for d in sorted(carrying) if fits(first := retriever.catalog.first(d))]
        how += ": " + ", ".join(sorted(labels)) + (f" (age {', '.join(sorted(bands))} or unknown)" if bands else "")
    else:
        firsts = [retriever.catalog.first(d) for d in dict.fromkeys(found) if retriever.catalog.first(d).kind == "case_review"]
        how = "reviews found for the question by their text (no NSPCC label matched it)"
    return firsts, how


def named_labels(retriever: Retriever, question: str, result: SearchResult) -> set[str]:
    """The NSPCC labels the question names (every word of the label in it) that are also among the
    labels nearest it by meaning (``SearchResult.meant``): a label its words name but its meaning
    does not ("parents" in "grieving a parent", "violence" in "baby jolted violently", "schools" in
    "taught by parents, not school") is not its topic, and counts nothing."""
    return {label for label in retriever.labels_in(question) if label in result.meant}


def on_topic(retriever: Retriever, result: SearchResult) -> frozenset[str] | None:
    """The found sources that are about the label the question is most likely about: those
    carrying it, and those no NSPCC label describes (users' files, briefings, guidance), which
    cannot be judged by labels. None when no label was read from the question."""
    if not result.inferred:
        return None
    label = result.inferred[0].label
    return frozenset(h.doc_id for h in result.hits if label in retriever.label_index.doc_labels.get(h.doc_id, {label}))


def topic(retriever: Retriever, question: str, result: SearchResult) -> Topic:
    """What the relevance stage needs of the question besides its words (assistant/answers/relevance.py)."""
    label = result.inferred[0].label if result.inferred else None
    others = [v for i in result.inferred[1:3] if (v := retriever.label_index.vector(i.label)) is not None]
    return Topic(
        expanded=read_vocabulary(question)[1],
        label=label,
        label_vector=retriever.label_index.vector(label) if label else None,
        on_label=on_topic(retriever, result),
        other_vectors=np.stack(others) if others else None,
    )


def _broad(retriever: Retriever, label: str) -> bool:
    reviews = max(1, sum(c.kind == "case_review" for c in retriever.catalog.firsts))
    return len(retriever.label_index.docs_of.get(label, ())) > BROAD_LABEL * reviews


def loose_label(retriever: Retriever, question: str, result: SearchResult) -> str | None:
    """The label a coverage count would come from when it is not fit to count by: read by meaning
    (not named in the question) and either not close to the question itself (cosine below
    COUNT_LABEL_FLOOR) or carried by more than BROAD_LABEL of the reviews. None when the count is
    fair (or when no label was read: the reviews found by their text are counted as such)."""
    if named_labels(retriever, question, result) or not result.inferred:
        return None
    top = result.inferred[0].score
    near = [i.label for i in result.inferred[:2] if i.score >= top - COVERAGE_LABEL_MARGIN]
    precise = [label for label in near if not _broad(retriever, label)]
    if not precise:
        return near[0]
    label = precise[0]
    vector = retriever.label_index.vector(label)
    if vector is None:
        return label
    q = np.asarray(retriever.embedder.embed([question])[0], dtype=np.float32)
    return label if float(vector @ q) / (float(np.linalg.norm(q)) + 1e-12) < COUNT_LABEL_FLOOR else None


def count(
    retriever: Retriever,
    question: str,
    result: SearchResult,
    filters: Filters,
    found: Sequence[str],
    quoted: Collection[str] = (),
) -> Coverage:
    """How many reviews in the whole collection discuss the question's topic (``covering``), with
    the reviews ``quoted`` in the answer, which the relevance stage judged to speak to it, when the
    labels missed them (a topic NSPCC labelled in only a few of the reviews that discuss it)."""
    loose = loose_label(retriever, question, result)
    if loose:  # no count from a label that only roughly matches the question, or a broad one
        return Coverage(reviews=0, years=None, how="", approximate=loose)
    firsts, how = covering(retriever, question, result, filters, found)
    known = {c.doc_id for c in firsts}
    more = [f for d in dict.fromkeys(quoted) if d not in known and (f := retriever.catalog.first(d)).kind == "case_review"]
    if more:
        firsts += more
        one = len(more) == 1
        how += f", and {len(more)} more whose passage{'' if one else 's'} quoted below speak{'s' if one else ''} to it"
    years = sorted({c.meta.year for c in firsts if c.meta.year})
    span = None if not years else str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"
    nations = Counter(c.meta.nation for c in firsts if c.meta.nation != "unknown")
    bands_seen = Counter(c.meta.age_band for c in firsts)
    return Coverage(
        reviews=len(firsts),
        years=span,
        how=how,
        by_nation=tuple(sorted(nations.items(), key=lambda kv: -kv[1])) if len(nations) > 1 else (),
        by_age_band=tuple((b, bands_seen[b]) for b in AGE_BANDS if bands_seen.get(b)) if len(bands_seen) > 1 else (),
    )
