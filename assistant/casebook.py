"""The Python API: ``Casebook(settings).ask(question)`` / ``.search(query)``.

Consumes settings (and, for tests, an ``Embedder``); owns the store and the retriever; produces
``Answer`` and ``ReviewHit`` objects. Validates input here, once, for every surface. When nothing is
indexed it indexes the bundled collection first (``auto_ingest``), or says which command to run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.answer import compose, overview_line, refusal, safety_notice, years_span
from assistant.errors import ConfigError, IndexNotReady, InputError
from assistant.followup import needs_context, standalone
from assistant.generate import GenerationError, Generator, budget_sources, parse_llm
from assistant.guard import guard
from assistant.retrieve import Retriever, SearchResult, check_filters
from assistant.settings import Settings, load_settings
from assistant.support import OverlapJudge
from assistant.types import Answer, Filters, ReviewHit
from vectorstore.embedder import Embedder, load_embedder
from vectorstore.store import Store

MAX_QUESTION_CHARS = 2000
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


def check_question(question: str) -> str:
    q = question.strip() if isinstance(question, str) else ""
    if not q:
        raise InputError(
            "the question is empty; ask about the case reviews, e.g. 'what did reviews say about bruising in non-mobile babies?'"
        )
    if len(q) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(q):,} characters; the limit is {MAX_QUESTION_CHARS:,}, so shorten it to the question itself"
        )
    return q


class Casebook:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        auto_ingest: bool = True,
        on_ingest: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self._embedder = embedder
        self.auto_ingest = auto_ingest
        self._on_ingest = on_ingest
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        self.llm = parse_llm(self.settings.llm)
        self._generator: Generator | None = None
        self._judge: OverlapJudge | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embed_model, self.settings.embed_batch_size)
        return self._embedder

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                store = Store(self.settings)
                if store.count() == 0:
                    if not self.auto_ingest:
                        raise IndexNotReady("nothing is indexed yet; run `casebook ingest` first")
                    from ingest.pipeline import run_ingest

                    if self._on_ingest:
                        self._on_ingest("nothing is indexed yet: indexing the bundled collection first (about a minute)")
                    run_ingest(self.settings, embedder=self.embedder, progress=False)
                self._retriever = Retriever(store, self.embedder)
            return self._retriever

    def refresh(self) -> None:
        """Re-read the index (after an ingest in this process)."""
        with self._lock:
            self._retriever = None

    def check_filters(self, filters: Filters) -> Filters:
        return check_filters(filters, self.retriever.keywords)

    def search(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[ReviewHit]:
        query = check_question(query)
        if k < 1 or k > 100:
            raise InputError(f"k: expected 1 to 100 results, got {k}")
        return self.retriever.search(query, k, self.check_filters(filters))

    @property
    def generator(self) -> Generator | None:
        """The configured language model, or None for the extractive answer."""
        with self._lock:
            if self._generator is None and self.llm.backend != "extractive":
                self._generator = Generator(self.settings, self.llm)
            return self._generator

    @property
    def judge(self) -> OverlapJudge:
        if self._judge is None:
            self._judge = OverlapJudge(self.embedder)
        return self._judge

    def _standalone(self, question: str, history: Sequence[str]) -> str | None:
        if not history or not needs_context(question):
            return None
        if self.llm.backend != "extractive":
            try:
                rewritten = self.generator.rewrite(history[-1], question) if self.generator else None
            except GenerationError:
                rewritten = None
            if rewritten:
                return rewritten
        return standalone(question, history)

    def ask(
        self,
        question: str,
        filters: Filters = Filters(),
        history: Sequence[str] = (),
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """``history``: the earlier questions of the conversation (as searched), oldest first; a
        question that refers back to them is searched as a standalone question. ``on_token`` receives
        the model's draft as it streams (generative backends only; the returned answer is guarded)."""
        question = check_question(question)
        filters = self.check_filters(filters)
        rewritten = self._standalone(question, history)
        searched = rewritten or question
        result = self.retriever.search_scored(searched, 10, filters)
        if not in_scope(result):
            answer = refusal(question, safety_notice(question), filters, reviews=self._review_count(), years=self._years())
        else:
            answer = compose(searched, result.hits, filters)
            if self.llm.backend != "extractive":
                answer = self._generative(searched, answer, on_token)
            answer = replace(answer, question=question, safety_notice=safety_notice(question))
        return replace(answer, standalone_question=rewritten)

    def _generative(self, question: str, extractive: Answer, on_token: Callable[[str], None] | None) -> Answer:
        """The model's answer, checked by the guard; the extractive answer, with a note, when the model
        fails or too little of what it wrote can be checked against the sources."""
        sources = budget_sources(question, [h.best for h in extractive.sources[: self.settings.llm_sources]], self.settings)
        label = self.llm.label
        try:
            generator = self.generator
            assert generator is not None
            if on_token is None:
                draft = generator.draft(question, sources)
            else:
                parts = []
                for token in generator.stream(question, sources):
                    parts.append(token)
                    on_token(token)
                draft = "".join(parts)
        except (GenerationError, ConfigError) as exc:
            return replace(extractive, notes=(f"{exc}. Showing Casebook's extractive answer instead.",))
        checked = guard(draft, sources, self.judge)
        if checked is None:
            note = f"Too little of {label}'s answer could be checked against the sources, so this is Casebook's extractive answer."
            return replace(extractive, notes=(note,))
        r = checked.report
        note = f"Written by {label}; every sentence was checked against the passage it cites."
        if r.removed == 1:
            note += " 1 sentence the sources did not support was removed."
        elif r.removed:
            note += f" {r.removed} sentences the sources did not support were removed."
        return replace(
            extractive,
            text="\n".join([overview_line(checked.citations), checked.text]),
            citations=checked.citations,
            notes=(note,),
        )

    def _review_count(self) -> int:
        return len({c.doc_id for c in self.retriever.chunks if c.kind == "case_review"})

    def _years(self) -> str:
        return years_span(self.retriever.chunks) or "in several years"
