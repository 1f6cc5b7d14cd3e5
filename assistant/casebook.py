"""The facade: the one object surfaces (CLI, chat, API) and the trainer call.

    cb = Casebook(settings)
    cb.ensure_indexed()              # an explicit step: index the bundled collection if nothing is
    cb.ask(question) / cb.search(q)  # indexed yet (surfaces call it; nothing indexes behind your back)

Consumes settings (and, for tests, an ``Embedder`` and a LangChain chat model with the real ones'
protocols); owns the store, the retriever and the language model; produces ``Answer``, ``ReviewHit``,
``Prompts``, ``Briefing``, ``Stats`` and ``IngestReport`` objects. Input is validated here, once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from assistant import trainer
from assistant.answers.quote_vectors import clause_embedder, keep_quotes, remember_quotes
from assistant.answers.relevance import RelevanceModel, load_model
from assistant.answers.support import OverlapJudge
from assistant.answers.writing import Writer
from assistant.model.generate import Generator, configured
from assistant.question.door import Question, check_question, read_at_door
from assistant.retrieval.filters import check_filters
from assistant.retrieval.keeper import IndexKeeper
from assistant.retrieval.ranking import Retriever, SearchResult
from assistant.retrieval.stats import collect_stats
from assistant.routes import Router
from records.errors import InputError
from records.settings import Settings, load_settings
from records.types import Answer, Chunk, Filters, Point, ReviewHit, Stats
from vectorstore.embedder import Embedder, RememberingEmbedder, load_embedder
from vectorstore.indexer import IngestReport, run_ingest
from vectorstore.store import open_store


class Casebook:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None, chat_model: Any = None) -> None:
        """``chat_model``: a LangChain chat model to use instead of the one ``settings.llm`` names
        (tests pass a fake; ``settings.llm`` must then name a backend other than extractive)."""
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._keeper = IndexKeeper(self.settings, lambda: self.embedder)
        self._lock = threading.Lock()
        self.llm = configured(self.settings)
        self._chat_model = chat_model
        self._generator: Generator | None = None
        self._judge: OverlapJudge | None = None
        self._clause_embedder: RememberingEmbedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embed_model, self.settings.embed_batch_size, self.settings.embed_backend)
        return self._embedder

    # -- the index -------------------------------------------------------------------------------
    def ensure_indexed(self, on_ingest: Callable[[str], None] | None = None) -> IngestReport | None:
        """Index the bundled collection when nothing is indexed yet (surfaces call this before they
        serve); None when there was already an index (whose quotes' vectors are kept if they were not)."""
        if open_store(self.settings).count() > 0:
            keep_quotes(self.settings.cache_dir, lambda: (self.retriever, self.embedder), on_ingest)
            return None
        if on_ingest:
            on_ingest("nothing is indexed yet: indexing the bundled collection first (a few minutes)")
        return self.ingest()

    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False, progress: bool = False) -> IngestReport:
        """Index the bundled collection (no paths) or the given files and folders, incrementally."""
        report = run_ingest(self.settings, paths, rebuild=rebuild, embedder=self._embedder, progress=progress)
        self._keeper.reset()  # re-read the index
        if report.chunks:  # and keep every quote's vector, so first answers need not embed them
            remember_quotes(self.retriever, self.embedder, self.settings.cache_dir)
        return report

    @property
    def retriever(self) -> Retriever:
        """The retriever over the index as it is now (assistant/retrieval/keeper.py)."""
        return self._keeper.current()

    def stats(self) -> Stats:
        return collect_stats(self.settings)

    # -- what the trainer and the chat need to know of the index ---------------------------------
    @property
    def keywords(self) -> list[str]:
        """The NSPCC keyword labels in the index, lower case, sorted."""
        return self.retriever.keywords

    @property
    def years(self) -> list[int]:
        """The publication years in the index, ascending."""
        return self.retriever.years

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order."""
        return self.retriever.chunks_of([doc_id])[doc_id]

    def documents(self, filters: Filters = Filters()) -> list[Chunk]:
        """The first chunk (the details) of every document the filters allow, newest first: exact, from
        the metadata, for counts and listings."""
        return self.retriever.matching(self.check_filters(filters))

    @property
    def areas(self) -> list[str]:
        """The partnerships and areas the index's reviews name."""
        return self.retriever.areas

    def labels_in(self, text: str) -> set[str]:
        return self.retriever.labels_in(text)

    # -- questions --------------------------------------------------------------------------------
    def check_filters(self, filters: Filters) -> Filters:
        return check_filters(filters, self.retriever.keywords, self.retriever.areas)

    def search(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[ReviewHit]:
        return self.search_scored(query, k, filters).hits

    def search_scored(self, query: str, k: int = 10, filters: Filters = Filters()) -> SearchResult:
        """``search`` with the evidence the refusal decision needs."""
        query = check_question(query)
        if k < 1 or k > 100:
            raise InputError(f"k: expected 1 to 100 results, got {k}")
        return self.retriever.search_scored(query, k, self.check_filters(filters))

    @property
    def generator(self) -> Generator | None:
        """The configured language model, or None for the extractive answer."""
        with self._lock:
            if self._generator is None and self.llm.backend != "extractive":
                self._generator = Generator(self.settings, self.llm, model=self._chat_model)
            return self._generator

    def model_status(self) -> dict[str, Any] | None:
        """The language model's state for health checks; None without a model."""
        return self.writer.status()

    @property
    def writer(self) -> Writer:
        """The configured model's part in an answer (assistant/answers/writing.py)."""
        return Writer(self.settings, self.llm, lambda: self.generator, self.judge)

    @property
    def relevance(self) -> RelevanceModel:
        """The relevance stage's model: the packaged one, or the file ``settings.relevance_model`` names."""
        return load_model(Path(self.settings.relevance_model)) if self.settings.relevance_model else load_model()

    @property
    def judge(self) -> OverlapJudge:
        if self._judge is None:
            self._judge = OverlapJudge(self.embedder)
        return self._judge

    def ask(
        self, question: str, filters: Filters = Filters(), history: Sequence[str] = (), on_token: Callable[[str], None] | None = None
    ) -> Answer:
        """``history``: the earlier questions of the conversation (as searched), oldest first; a
        question that refers back to them is searched as a standalone question. ``on_token`` receives
        the model's draft as it streams (generative backends only; the returned answer is guarded)."""
        q = self.question(question, filters, history)
        return self.router.answer(q, on_token)

    def question(self, question: str, filters: Filters = Filters(), history: Sequence[str] = ()) -> Question:
        """The question read once, at the door (assistant/question/door.py)."""
        r = self.retriever
        check = partial(check_filters, known_keywords=r.keywords, known_areas=r.areas)
        return read_at_door(question, filters, history, r.names, years=r.years, areas=r.areas, check=check, rewrite=self.writer.rewrite)

    @property
    def router(self) -> Router:
        if self._clause_embedder is None:  # the candidate clauses' vectors, kept between questions
            self._clause_embedder = clause_embedder(self.embedder, self.settings.cache_dir)
        return Router(self.retriever, self._clause_embedder, self.relevance, self.writer)

    def themed(self, question: str, filters: Filters = Filters()) -> Answer | None:
        """The themed answer to a topic, or None when too few sources speak to it."""
        return self.router.theme(question, self.check_filters(filters))

    def on_question(self, question: str, points: Sequence[Point]) -> list[Point]:
        """The points the relevance stage judges on the question, most relevant first."""
        return self.router.on_question(question, points)

    def prompts(self, theme: str, filters: Filters = Filters(), n: int = 5) -> trainer.Prompts:
        """Cited discussion prompts on a theme (see assistant/trainer.py)."""
        return trainer.discussion_prompts(self, check_question(theme), filters, n=n)

    def briefing(self, theme: str, filters: Filters = Filters()) -> trainer.Briefing:
        """A cited 7-minute briefing on a theme."""
        return trainer.seven_minute_briefing(self, check_question(theme), filters)

    def trainer_question(self, quote: str) -> str | None:
        """The configured model's reflective question about a learning point, or None."""
        return self.writer.trainer_question(quote)
