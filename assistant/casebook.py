"""The facade: the one object surfaces (CLI, chat, API) and the trainer call.

    cb = Casebook(settings)
    cb.ensure_indexed()              # an explicit step: index the bundled collection if nothing is
    cb.ask(question) / cb.search(q)  # indexed yet (surfaces call it; nothing indexes behind your back)

Consumes settings (and, for tests, an ``Embedder`` and a LangChain chat model that implement the same
protocols as the real ones); owns the store, the retriever and the language model; produces
``Answer``, ``ReviewHit``, ``Prompts``, ``Briefing``, ``Stats`` and ``IngestReport`` objects. Input is
validated here, once, for every surface.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant import trainer
from assistant.answers.quotes import Point
from assistant.answers.relevance import Clause, RelevanceModel, load_model, score
from assistant.answers.support import OverlapJudge
from assistant.answers.writing import Writer
from assistant.model.generate import Generator, parse_llm
from assistant.question.followup import needs_context, standalone
from assistant.question.reading import Reading, read_question
from assistant.question.safety import safety_notice
from assistant.retrieval import coverage
from assistant.retrieval.filters import check_filters
from assistant.retrieval.ranking import Retriever, SearchResult
from assistant.retrieval.stats import collect_stats
from assistant.routes import THEMED_SOURCES, Question, Router
from records.errors import ConfigError, GenerationError, IndexNotReady, InputError
from records.settings import Settings, load_settings
from records.types import Answer, Chunk, Filters, NamedSource, ReviewHit, Stats
from vectorstore.catalog import open_catalog
from vectorstore.embedder import Embedder, load_embedder, unit_vectors
from vectorstore.indexer import IngestReport, run_ingest
from vectorstore.store import open_store

MAX_QUESTION_CHARS = 2000
LLM_STYLES = ("auto", "answer", "per_source", "headlines")


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
        chat_model: Any = None,
    ) -> None:
        """``chat_model``: a LangChain chat model to use instead of the one ``settings.llm`` names
        (tests pass a fake; ``settings.llm`` must then name a backend other than extractive)."""
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        self.llm = parse_llm(self.settings.llm)
        if self.settings.llm_style not in LLM_STYLES:
            raise ConfigError(f"llm_style: expected one of {', '.join(LLM_STYLES)}; got {self.settings.llm_style!r}")
        self._chat_model = chat_model
        self._generator: Generator | None = None
        self._judge: OverlapJudge | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embed_model, self.settings.embed_batch_size, self.settings.embed_backend)
        return self._embedder

    # -- the index -------------------------------------------------------------------------------
    def ensure_indexed(self, on_ingest: Callable[[str], None] | None = None) -> IngestReport | None:
        """Index the bundled collection when nothing is indexed yet (surfaces call this before they
        serve); None when there was already an index."""
        if open_store(self.settings).count() > 0:
            return None
        if on_ingest:
            on_ingest("nothing is indexed yet: indexing the bundled collection first (about a minute)")
        return self.ingest()

    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False, progress: bool = False) -> IngestReport:
        """Index the bundled collection (no paths) or the given files and folders, incrementally."""
        report = run_ingest(self.settings, paths, rebuild=rebuild, embedder=self._embedder, progress=progress)
        self.refresh()
        return report

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is not None and not self._retriever.catalog.is_current():
                self._retriever = None  # another process ingested: read the index as it is now
            if self._retriever is None:
                store = open_store(self.settings)
                if store.count() == 0:
                    raise IndexNotReady("nothing is indexed yet; run `casebook ingest` first")
                catalog = open_catalog(self.settings, store)
                self._retriever = Retriever(store, catalog, self.embedder, cache_dir=self.settings.cache_dir)
            return self._retriever

    def refresh(self) -> None:
        """Re-read the index (after an ingest in this process)."""
        with self._lock:
            self._retriever = None

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
        """The language model's state for health checks (for llamacpp its process: pid, alive,
        restarts); None without a model. Never starts the model."""
        if self.llm.backend == "extractive":
            return None
        try:
            generator = self.generator
        except (ConfigError, GenerationError) as exc:
            return {"backend": self.llm.label, "error": str(exc)}
        return generator.status() if generator is not None else None

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

    def _standalone(self, question: str, history: Sequence[str]) -> str | None:
        if not history or not needs_context(question):
            return None
        if self.llm.backend != "extractive":
            try:
                rewritten = self.generator.rewrite(history[-1], question) if self.generator else None
            except (GenerationError, ConfigError):
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
        return self.router.answer(self.question(question, filters, history), on_token)

    def question(self, question: str, filters: Filters = Filters(), history: Sequence[str] = ()) -> Question:
        """The question read once, at the door: checked, its filters checked, a follow-up rewritten as
        a standalone question, the live-concern notice, the sources it names, what it carries."""
        question = check_question(question)
        named = self.retriever.names.in_question(question)  # read once: candidates, reading and search use it
        return Question(
            text=question,
            filters=self.check_filters(filters),
            history=tuple(history),
            rewritten=self._standalone(question, history),
            notice=safety_notice(question),  # every kind of answer leads with it when a child may be at risk now
            named=named,
            candidates=tuple(self.retriever.names.candidates(question, named)),
            reading=self.read(question, named),
        )

    @property
    def router(self) -> Router:
        return Router(self.retriever, self.embedder, self.relevance, self.writer, self.check_filters)

    def read(self, question: str, named: tuple[NamedSource, ...] | None = None) -> Reading:
        """The question's own filters and whether it asks for a count (assistant/question/reading.py). A
        question that names a source is about that source: nothing else is read from it."""
        if self.retriever.names.in_question(question) if named is None else named:
            return Reading()
        return read_question(question, years=self.years, areas=self.retriever.areas)

    def themed(self, question: str, filters: Filters = Filters()) -> Answer | None:
        """The themed answer to a question about a topic (findings and recommendations several
        reviews share, with the topic's coverage), or None when too few sources speak to it."""
        filters = self.check_filters(filters)
        return self.router.themed(question, self.retriever.search_scored(question, THEMED_SOURCES, filters), filters)

    def on_question(self, question: str, points: Sequence[Point]) -> list[Point]:
        """The points the relevance stage judges on the question (assistant/answers/relevance.py), most
        relevant first: what the trainer's prompts and briefings quote."""
        if not points:
            return []
        result = self.retriever.search_scored(question, THEMED_SOURCES)
        rank = {h.doc_id: i for i, h in enumerate(result.hits)}
        clauses = [Clause(p.quote, p.section, p.chunk.kind, p.hit.doc_id, rank.get(p.hit.doc_id, 20)) for p in points]
        vectors = unit_vectors(self.embedder, [question, *(p.quote for p in points)])
        model = self.relevance
        probability = score(question, coverage.topic(self.retriever, question, result), clauses, vectors[1:], vectors[0], model)
        kept = sorted(((float(r), i) for i, r in enumerate(probability) if r >= model.keep), key=lambda t: (-t[0], t[1]))
        return [points[i] for _, i in kept]

    # -- trainer ----------------------------------------------------------------------------------
    def prompts(self, theme: str, filters: Filters = Filters(), n: int = 5) -> trainer.Prompts:
        """Cited discussion prompts on a theme (see assistant/trainer.py)."""
        return trainer.discussion_prompts(self, check_question(theme), filters, n=n)

    def briefing(self, theme: str, filters: Filters = Filters()) -> trainer.Briefing:
        """A cited 7-minute briefing on a theme."""
        return trainer.seven_minute_briefing(self, check_question(theme), filters)

    def trainer_question(self, quote: str) -> str | None:
        """The configured model's reflective question about a learning point; None without a model
        or when it fails (the template's question is used then)."""
        if self.llm.backend == "extractive":
            return None
        try:
            return self.generator.trainer_question(quote) if self.generator else None
        except (GenerationError, ConfigError):  # a model missing or down: the template's question
            return None
