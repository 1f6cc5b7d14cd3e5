"""Questions → the reviews that answer them: hybrid, vocabulary-aware, filtered, review-level.

Consumes the store (dense search in Chroma, passages by id) and the catalog (vectorstore/catalog.py:
both BM25 indexes and every document's first chunk, built at ingest); produces a ``SearchResult``:
``ReviewHit`` records, one per review/document, each with its best passages, and the evidence the
refusal and coverage decisions need.

The order of reviews is a weighted reciprocal rank fusion (RRF) of two lists (``WEIGHTS``, tuned):

  inferred  reviews carrying the NSPCC labels the question is about by meaning
            (assistant/question/labels.py), tie-broken by dense search;
  labels    reviews NSPCC labelled with a vocabulary group's keywords (in the group's age band, where
            it has one) or with a label the question names: how "non-mobile" finds a "4-month-old"
            with "bruising".

The lists below them carry no weight in that order but do other work: dense search on the question
and on the question expanded with the vocabulary (prompts/vocabulary.toml), and BM25 on passages,
choose each review's passages and feed the inferred list; whole-review BM25 orders the labels list.
A list that neither votes nor feeds another is not computed. A source the question names comes
first regardless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.question.labels import InferredLabel, LabelIndex, LabelSettings
from assistant.question.named import SourceNames
from assistant.question.scope import NOT_MEASURED, OffTopic, OffTopicIndex
from assistant.retrieval.vocabulary import VocabularyGroup, read_vocabulary
from records.errors import IndexNotReady
from records.settings import Settings
from records.text import stem, stems, tokens
from records.tuned import load_tuned
from records.types import Chunk, Filters, Hit, NamedSource, ReviewHit
from vectorstore.catalog import Catalog, open_catalog
from vectorstore.embedder import Embedder
from vectorstore.store import Store, open_store

RRF_K = 60
NEAREST_LABELS = 3  # labels a refusal names as the nearest topics the collection covers
MEANT = 10  # (≥ NEAREST_LABELS) labels nearest the question by meaning, one of which a label its words name must be to count its reviews
NAMED_PASSAGES = 8  # passages kept for a source the question names (a review summary is 1–4)
# Weight of each ranked list in the fusion (see RetrievalConfig): records/tuned.toml [retrieval] says
# how they were chosen and what they measured.
TUNED = load_tuned()["retrieval"]
WEIGHTS: dict[str, float] = dict(TUNED["weights"])


@dataclass(frozen=True)
class RetrievalConfig:
    """The fusion's weights and how labels are inferred (records/tuned.toml [retrieval] and [labels],
    chosen by evals/tune_retrieval.py on the tuning split)."""

    weights: tuple[tuple[str, float], ...] = tuple(WEIGHTS.items())
    labels: LabelSettings = field(default_factory=LabelSettings)
    # A cap on the weight of "inferred" when the question already uses the collection's own words.
    inferred_with_vocabulary: float = float(TUNED["inferred_with_vocabulary"])

    def weight(self, name: str) -> float:
        return dict(self.weights).get(name, 0.0)


@dataclass(frozen=True)
class SearchResult:
    hits: list[ReviewHit]
    similarity: float  # cosine of the best dense passage for the question as asked
    vocabulary: tuple[str, ...]  # the vocabulary groups and NSPCC labels the question used
    inferred: tuple[InferredLabel, ...] = ()  # NSPCC labels the question is about, inferred
    label_similarity: float = 0.0  # cosine of the nearest NSPCC label (its definition and phrasings), in the index or not
    nearest_labels: tuple[str, ...] = ()  # the three nearest labels by meaning
    meant: tuple[str, ...] = ()  # the MEANT nearest labels by meaning: what the question may be about
    off_topic: OffTopic = NOT_MEASURED  # how near the examples of questions the reviews don't answer
    concepts: tuple[str, ...] = ()  # vocabulary groups naming a concept, not a population
    named: tuple[NamedSource, ...] = ()  # sources the question names ("the Sutton review of Child X")


class Retriever:
    """Hybrid retrieval over one index and its catalog (vectorstore/catalog.py: the documents' first
    chunks and the two BM25 indexes, built at ingest). Opening costs what the catalog costs to load,
    not a read of every chunk; passages are fetched from the store when a question needs them."""

    def __init__(
        self, store: Store, catalog: Catalog, embedder: Embedder, *, cache_dir: Path | None = None, config: RetrievalConfig | None = None
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        firsts = catalog.firsts
        self.keywords = sorted({k.lower() for c in firsts for k in c.meta.keywords})
        self.areas = sorted({c.meta.area for c in firsts if c.meta.area and c.kind == "case_review"})
        self.years = sorted({c.meta.year for c in firsts if c.meta.year})
        # Each label's word stems, for labels_in.
        self._label_words = {k: w for k in self.keywords if (w := frozenset(stem(t) for t in tokens(k) if len(t) > 2))}
        self.doc_ids = catalog.doc_ids
        self.names = SourceNames(firsts)
        self.label_index = LabelIndex({c.doc_id: c.meta.keywords for c in firsts}, embedder, cache_dir)
        self.off_topic = OffTopicIndex(embedder, cache_dir)
        self._positions: dict[str, np.ndarray] = {}

    @property
    def chunk_count(self) -> int:
        return self.catalog.chunk_count

    @property
    def firsts(self) -> list[Chunk]:
        """Every document's first chunk (its metadata), by id."""
        return self.catalog.firsts

    def first(self, doc_id: str) -> Chunk:
        return self.catalog.first(doc_id)

    def chunks_of(self, doc_ids: Sequence[str]) -> dict[str, list[Chunk]]:
        """These documents' chunks in order, from the store."""
        return self.store.document_chunks(doc_ids)

    # The three baselines the evaluation compares; `search` is Casebook's own.
    def dense(self, query: str, k: int, filters: Filters = Filters(), vector: Sequence[float] | None = None) -> list[Hit]:
        vec = vector if vector is not None else self.embedder.embed([query])[0]
        return self.store.query(vec, k, filters)

    def lexical(self, query: str, k: int, filters: Filters = Filters()) -> list[Hit]:
        mask = None if filters.is_empty() else self.catalog.chunk_mask(filters)
        top = _bm25_top(self.catalog.chunk_bm25, query, self.catalog.chunk_count, k, mask)
        ids = [self.catalog.chunk_ids[i] for i, _ in top]
        found = self.store.chunks_by_id(ids)
        return [Hit(chunk=found[cid], score=score) for cid, (_, score) in zip(ids, top, strict=True) if cid in found]

    def review_lexical(self, query: str, k: int, filters: Filters = Filters()) -> list[str]:
        """BM25 over whole documents (a review's summary, learning and recommendations together, with
        its heading and NSPCC keywords): a review is relevant as a whole, not passage by passage."""
        mask = None if filters.is_empty() else self.catalog.doc_mask(filters)
        top = _bm25_top(self.catalog.doc_bm25, query, len(self.doc_ids), k, mask)
        return [self.doc_ids[i] for i, _ in top]

    def search(self, question: str, k: int = 10, filters: Filters = Filters(), pool: int = 60) -> list[ReviewHit]:
        return self.search_scored(question, k, filters, pool).hits

    def search_scored(
        self, question: str, k: int = 10, filters: Filters = Filters(), pool: int = 60, named_sources: tuple[NamedSource, ...] | None = None
    ) -> SearchResult:
        """``search``, with the evidence the refusal decision needs."""
        groups, expanded = read_vocabulary(question)
        vectors = self.embedder.embed([question] if expanded == question else [question, expanded])
        known = self.catalog.position
        # A document another process is writing right now is in Chroma before it is in the catalog:
        # it is left out until the catalog that includes it is in place (the next question's).
        dense_lists = [[h for h in hits if h.chunk.doc_id in known] for hits in self.store.query_many(vectors, pool, filters)]
        dense, dense_expanded = dense_lists[0], dense_lists[-1]
        chunk_lists = {"dense": dense, "dense_expanded": dense_expanded, "lexical": self.lexical(expanded, pool, filters)}
        doc_lists: dict[str, list[str]] = {name: _doc_order(hits) for name, hits in chunk_lists.items()}
        doc_lists["review_bm25"] = self.review_lexical(expanded, pool, filters)
        if self.config.weight("review_bm25_plain") > 0:  # a list that carries no weight is not computed
            doc_lists["review_bm25_plain"] = self.review_lexical(question, pool, filters)
        named = self.labels_in(question)
        doc_lists["labels"] = self._labelled(groups, [*doc_lists["review_bm25"], *doc_lists["dense"]], filters, named)
        if named_sources is None:  # the sources this very question names, unless the caller has read them
            named_sources = self.names.in_question(question)
        sources = tuple(n for n in named_sources if filters.matches(self.first(n.doc_id)))
        config = self.config
        weights = dict(config.weights)
        if groups or named:
            weights["inferred"] = min(weights.get("inferred", 0.0), config.inferred_with_vocabulary)
        nearest, inferred, label_similarity = self.label_index.read(vectors[0], _doc_best(dense), config.labels, MEANT)
        if weights.get("inferred", 0.0) > 0:  # a list with no weight is not worth ranking
            allowed = None if filters.is_empty() else self.catalog.doc_mask(filters)
            doc_lists["inferred"] = self.label_index.rank_documents(inferred, doc_lists["dense"], allowed, self.catalog.position, pool)
        fused = _rrf_docs(doc_lists, weights)
        if sources:
            # A review the question names comes first, whatever the fusion thinks of it.
            first = {n.doc_id for n in sources}
            top = (fused[0][1] if fused else 0.0) + 1.0
            fused = [(n.doc_id, top) for n in sources] + [(d, sc) for d, sc in fused if d not in first]
        passages = _rrf(list(chunk_lists.values()))
        by_doc: dict[str, list[Hit]] = defaultdict(list)
        for h in passages:
            if len(by_doc[h.chunk.doc_id]) < 3:
                by_doc[h.chunk.doc_id].append(h)
        q_stems = stems(expanded)
        # Documents ranked without a passage of their own, and named sources (answered from all of
        # them), have their chunks fetched: one call to the store.
        fetch = [n.doc_id for n in sources] + [d for d, _ in fused[:k] if not by_doc.get(d)]
        chunks_of = self.chunks_of(fetch) if fetch else {}
        for n in sources:
            # A named source is answered from all of it: its best-matching passages, then the rest.
            have = {h.chunk.chunk_id for h in by_doc[n.doc_id]}
            rest = sorted((c for c in chunks_of.get(n.doc_id, ()) if c.chunk_id not in have), key=lambda c: -len(q_stems & stems(c.text)))
            by_doc[n.doc_id] = [*by_doc[n.doc_id], *(Hit(chunk=c, score=0.0) for c in rest)][:NAMED_PASSAGES]
        hits: list[ReviewHit] = []
        for doc_id, score in fused[:k]:
            found = by_doc.get(doc_id) or [
                Hit(chunk=c, score=0.0) for c in sorted(chunks_of.get(doc_id, ()), key=lambda c: -len(q_stems & stems(c.text)))[:3]
            ]
            if found:  # none when another process removed the document a moment ago
                hits.append(ReviewHit(doc_id=doc_id, score=score, passages=tuple(found)))
        similarity = dense[0].score if dense else 0.0
        return SearchResult(
            hits=hits,
            similarity=similarity,
            vocabulary=(*(g.name for g in groups), *sorted(named)),
            inferred=tuple(inferred),
            label_similarity=label_similarity,
            nearest_labels=tuple(label for label, _ in nearest[:NEAREST_LABELS]),
            meant=tuple(label for label, _ in nearest[:MEANT]),
            off_topic=self.off_topic.nearest(vectors[0]),
            concepts=tuple(g.name for g in groups if not g.population),
            named=sources,
        )

    def with_findings(self, hits: Sequence[ReviewHit]) -> list[ReviewHit]:
        """``hits``, each review found only by its summary (what happened) completed with its learning
        and recommendations, which a themed answer quotes: one call to the store."""
        wanted = ("learning", "recommendations")
        bare = [h.doc_id for h in hits if h.best.kind == "case_review" and not any(p.chunk.section in wanted for p in h.passages)]
        if not bare:
            return list(hits)
        chunks = self.chunks_of(bare)
        out = []
        for h in hits:
            extra = tuple(Hit(chunk=c, score=0.0) for c in chunks.get(h.doc_id, ()) if c.section in wanted) if h.doc_id in bare else ()
            out.append(replace(h, passages=(*h.passages, *extra)) if extra else h)
        return out

    def matching(self, filters: Filters) -> list[Chunk]:
        """The first chunk of every document the filters allow, newest first (exact, from metadata)."""
        mask = self.catalog.doc_mask(filters)
        firsts = [c for c, keep in zip(self.catalog.firsts, mask.tolist(), strict=True) if keep]
        return sorted(firsts, key=lambda c: (-(c.meta.year or 0), c.meta.area or "", c.heading))

    def labels_in(self, question: str) -> set[str]:
        """NSPCC keyword labels the question names itself ("interpreters", "housing"): every word of
        the label appears in the question, compared by their stems."""
        q = {stem(t) for t in tokens(question)}
        return {label for label, words in self._label_words.items() if words <= q}

    def _label_positions(self, label: str) -> np.ndarray:
        """The positions (in the catalog) of the documents carrying ``label``."""
        found = self._positions.get(label)
        if found is None:
            position = self.catalog.position
            found = np.fromiter(sorted(position[d] for d in self.label_index.docs_of.get(label, ())), dtype=np.int64)
            self._positions[label] = found
        return found

    def _labelled(
        self,
        groups: Sequence[VocabularyGroup],
        order: Sequence[str],
        filters: Filters,
        named: set[str],
    ) -> list[str]:
        """Documents NSPCC labelled with a matched group's keywords (in the group's age band, if it
        has one) or with a label the question names, ordered by the given ranking first and then by
        how many of the labels they carry."""
        labels = {k for g in groups for k in g.keywords} | set(named)
        bands = {g.age_band for g in groups if g.age_band}
        if not labels:
            return []

        # Counted over arrays (a label's documents by position; positions are in id order), not a
        # scan of every document: broad labels ("neglect") carry a third of a large collection.
        n = len(self.doc_ids)
        carried = np.zeros(n, dtype=np.int32)
        for label in labels:
            carried[self._label_positions(label)] += 1
        eligible = carried > 0
        if not filters.is_empty():
            eligible &= self.catalog.doc_mask(filters)
        if bands:  # a label says what a review is about; an age band alone would pull in every infant review
            eligible &= self.catalog.band_mask(frozenset(bands | {"multiple/unknown"}))
        position = self.catalog.position
        ranked = [d for d in dict.fromkeys(order) if eligible[position[d]]]
        eligible[[position[d] for d in ranked]] = False
        rest_at = np.flatnonzero(eligible)
        # Most labels first, the id breaking ties (stable sort over positions in id order).
        rest_at = rest_at[np.argsort(-carried[rest_at], kind="stable")]
        rest = [self.doc_ids[i] for i in rest_at.tolist()]
        return ranked + rest


def _bm25_top(index: Any, query: str, n: int, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
    """(position, score) of the best ``k`` of ``n`` indexed items, positive scores only; ``mask``
    (a boolean per item) zeroes the items a filter excludes, so only ``k`` are ever ranked."""
    q = tokens(query)
    if not q or not n:
        return []
    weights = None if mask is None else mask.astype(np.float32)
    docs, scores = index.retrieve([q], k=min(n, k), show_progress=False, n_threads=1, weight_mask=weights)
    return [(int(i), float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]


def _doc_order(hits: Sequence[Hit]) -> list[str]:
    return list(dict.fromkeys(h.chunk.doc_id for h in hits))


def _doc_best(hits: Sequence[Hit]) -> list[tuple[str, float]]:
    """Documents in the order of their best hit, each with that hit's score."""
    best: dict[str, float] = {}
    for h in hits:
        best.setdefault(h.chunk.doc_id, h.score)
    return list(best.items())


def _rrf_docs(lists: dict[str, list[str]], weights: dict[str, float]) -> list[tuple[str, float]]:
    scores: dict[str, float] = defaultdict(float)
    for name, docs in lists.items():
        w = weights.get(name, 0.0)
        for rank, doc_id in enumerate(docs):
            scores[doc_id] += w / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _rrf(lists: Sequence[Sequence[Hit]]) -> list[Hit]:
    scores: dict[str, float] = defaultdict(float)
    chunks: dict[str, Chunk] = {}
    for hits in lists:
        for rank, h in enumerate(hits):
            scores[h.chunk.chunk_id] += 1.0 / (RRF_K + rank + 1)
            chunks[h.chunk.chunk_id] = h.chunk
    return [Hit(chunk=chunks[cid], score=s) for cid, s in sorted(scores.items(), key=lambda kv: -kv[1])]


def open_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The retriever over the index ``settings`` point at; ``IndexNotReady`` when nothing is indexed."""
    store = open_store(settings)
    if store.count() == 0:
        raise IndexNotReady("nothing is indexed yet; run `casebook ingest` first")
    return Retriever(store, open_catalog(settings, store), embedder, cache_dir=settings.cache_dir)
