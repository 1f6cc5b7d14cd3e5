"""A question's path: read once at the door, routed once, answered by one route.

Consumes a ``Question`` (the facade reads it: assistant/casebook.py) and the parts of an open index
(the retriever, the embedder, the relevance model, the model's writer); produces the complete
``Answer``. The routes, chosen in this order:

    candidates  the question names a review that several share: the list to choose from
    count       "how many…", "which reviews…": counted exactly from the metadata
    refuse      nothing in the collection speaks to it (assistant/answers/refusal.py)
    named       it names a source: that source first, one point per source
    themed      findings and recommendations several reviews share (assistant/answers/themes.py), else
                "little on this" (the nearest passages, the reviews to read), or for a follow-up
                the plain answer

A configured language model then writes over the composed answer (assistant/answers/writing.py), and every
answer is finished the same way: what was read from the question and how it was searched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from assistant.answers.compose import compose, little_answer
from assistant.answers.counting import MAX_LISTED, candidates_answer, count_answer
from assistant.answers.quotes import years_span
from assistant.answers.refusal import in_scope, reads_as, refusal
from assistant.answers.relevance import RelevanceModel, on_question
from assistant.answers.themes import themed_answer
from assistant.answers.writing import Writer
from assistant.question.door import Question
from assistant.question.reading import Reading
from assistant.retrieval import coverage
from assistant.retrieval.ranking import Retriever, SearchResult
from records.types import Answer, Filters, NamedSource, Point, ReviewHit
from vectorstore.embedder import Embedder

THEMED_SOURCES = 24  # sources a themed answer may draw on (the first 10 are the ranking shown as sources)


@dataclass(frozen=True)
class Router:
    """The routes over one open index."""

    retriever: Retriever
    embedder: Embedder
    relevance: RelevanceModel
    writer: Writer

    def answer(self, q: Question, on_token: Callable[[str], None] | None = None) -> Answer:
        if q.candidates:
            return replace(self.candidates(q.text, q.candidates, q.filters), safety_notice=q.notice)
        notes = tuple(f"Nothing in the collection is {u}; it holds {self.years()}." for u in q.reading.unmatched)
        if q.reading.counting:
            answer = self.count(q.text, q.reading, q.count_filters)
            return replace(answer, read_as=q.reading.said, notes=(*answer.notes, *notes), safety_notice=q.notice)
        filters = q.search_filters
        result = self.retriever.search_scored(q.searched, THEMED_SOURCES, filters, named_sources=None if q.rewritten else q.named)
        if not in_scope(result, live_concern=q.notice is not None):
            answer = self.refusal(q.text, result, filters, q.notice)
        elif result.named:
            answer = compose(q.searched, result.hits[:10], filters, named={n.doc_id for n in result.named})
        else:
            answer = self.themed_or_less(q, result, filters)
        answer = self.written(q, answer, on_token)
        if not answer.refused:
            answer = replace(answer, question=q.text, safety_notice=q.notice)
        return replace(
            answer,
            standalone_question=q.rewritten,
            inferred_labels=tuple(i.label for i in result.inferred),
            named_sources=result.named,
            read_as=q.reading.said,
            notes=(*answer.notes, *notes),
        )

    def theme(self, question: str, filters: Filters) -> Answer | None:
        """The themed answer to a topic (``filters`` checked), or None when too few sources speak to it."""
        return self.themed(question, self.retriever.search_scored(question, THEMED_SOURCES, filters), filters)

    def on_question(self, question: str, points: Sequence[Point]) -> list[Point]:
        """The points the relevance stage judges on the question, most relevant first: what the
        trainer's prompts and briefings quote."""
        if not points:
            return []
        result = self.retriever.search_scored(question, THEMED_SOURCES)
        rank = {h.doc_id: i for i, h in enumerate(result.hits)}
        topic = coverage.topic(self.retriever, question, result)
        return on_question(question, topic, points, rank, self.embedder, self.relevance)

    def themed_or_less(self, q: Question, result: SearchResult, filters: Filters) -> Answer:
        # A follow-up's clauses are judged against the earlier question (and its new aspect), not
        # against the rewritten text, whose filler words ("and what did they …") mean nothing.
        asked = " ".join(filter(None, (q.focus, q.history[-1]))) if q.rewritten else None
        themed = self.themed(q.searched, result, filters, q.focus, asked, notice=q.notice, original=q.text)
        if themed is not None:
            return themed
        # A follow-up the stage finds nothing for keeps the plain answer (one point per source): its
        # judgements were made on standalone questions only, and "and what did they recommend?" must
        # not be told the collection has nothing on the topic just discussed.
        if q.rewritten:
            return replace(compose(q.searched, result.hits[:10], filters), focus=q.focus)
        return self.little(q.text, result, filters, q.notice)

    def written(self, q: Question, answer: Answer, on_token: Callable[[str], None] | None) -> Answer:
        """The model's part, when one is configured: the whole answer, or (``headlines``) a themed
        answer's headlines only. Refusals and "little" answers are never written over."""
        if answer.refused or answer.little or self.writer.spec.backend == "extractive":
            return answer
        if answer.themes and self.writer.settings.llm_style == "headlines":
            return self.writer.headlines(q.searched, answer)
        return self.writer.answer(q.searched, answer, on_token)

    def candidates(self, question: str, candidates: Sequence[NamedSource], filters: Filters) -> Answer:
        """A question that may mean any of several reviews of the same name: list them to choose from."""
        firsts = [self.retriever.first(n.doc_id) for n in candidates]
        name = self.retriever.names.written_name(candidates[0].doc_id)
        answer = candidates_answer(question, firsts, self.retriever.chunks_of([c.doc_id for c in firsts]), name, filters)
        return replace(answer, named_sources=tuple(candidates))

    def count(self, question: str, reading: Reading, filters: Filters) -> Answer:
        """A counting or listing question, answered exactly from the metadata (assistant/answers/counting.py)."""
        firsts = self.retriever.matching(filters)
        if not filters.kind:  # "how many reviews …": case reviews, not briefings or notes
            firsts = [c for c in firsts if c.kind == "case_review"]
        how = "the reviews' own details (year, nation, area, the child's age, outcome)"
        if reading.topic:
            result = self.retriever.search_scored(reading.topic, THEMED_SOURCES, filters)
            covered, how = coverage.covering(self.retriever, reading.topic, result, filters, [h.doc_id for h in result.hits])
            ids = {c.doc_id for c in covered}
            firsts = [c for c in firsts if c.doc_id in ids]
        read_as = " · ".join(reading.said) or "every review"
        listed = self.retriever.chunks_of([c.doc_id for c in firsts[:MAX_LISTED]])
        return count_answer(question, firsts, listed, how, read_as, filters)

    def themed(
        self,
        question: str,
        result: SearchResult,
        filters: Filters,
        focus: str | None = None,
        asked: str | None = None,
        *,
        notice: str | None = None,
        original: str | None = None,
    ) -> Answer | None:
        """The themed answer; with ``original`` (the question as asked), the "little on this" answer
        quoting the closest passages when some bear on it but none heads a theme."""
        found = [h.doc_id for h in result.hits]
        on = coverage.topic(self.retriever, question, result)
        return themed_answer(
            question,
            result.hits,
            partial(coverage.count, self.retriever, question, result, filters, found),
            self.embedder.embed,
            filters,
            focus=focus,
            on_topic=on.on_label,
            complete=self.retriever.with_findings,
            topic=on,
            model=self.relevance,
            asked=asked,
            closest=None if original is None else lambda points, hits: self.little(original, result, filters, notice, points, hits),
        )

    def refusal(self, question: str, result: SearchResult, filters: Filters, notice: str | None) -> Answer:
        reviews = sum(c.kind == "case_review" for c in self.retriever.firsts)
        return refusal(
            question,
            notice,
            filters,
            reviews=reviews,
            years=self.years(),
            nearest=result.nearest_labels,
            reads_as=reads_as(result),
        )

    def little(
        self,
        question: str,
        result: SearchResult,
        filters: Filters,
        notice: str | None,
        closest: Sequence[Point] = (),
        hits: Sequence[ReviewHit] | None = None,
    ) -> Answer:
        """No passage speaks to the question. When it also reads as a kind of question the reviews do
        not answer, that is a refusal; otherwise the answer says so, names the reviews that carry the
        question's NSPCC label when it truly matches (they are about the topic even though no passage
        found speaks to it), else the nearest sources, and quotes nothing."""
        if reads_as(result) and notice is None:
            return self.refusal(question, result, filters, notice)
        about, how = coverage.covering(self.retriever, question, result, filters, [h.doc_id for h in result.hits])
        if coverage.loose_label(self.retriever, question, result):
            about = []  # no count, and no list, from a label that only roughly or broadly matches
        return little_answer(
            question,
            result.hits if hits is None else hits,
            filters,
            result.nearest_labels,
            how=how,
            about=about,
            closest=closest,
        )

    def years(self) -> str:
        return years_span(self.retriever.firsts) or "in several years"
