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
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant import trainer
from assistant.answer import Point, compose, little_answer, overview_line, years_span
from assistant.counting import MAX_LISTED, candidates_answer, count_answer
from assistant.feedback import record_feedback
from assistant.followup import needs_context, standalone, topic
from assistant.generate import Generator, budget_sources, parse_llm
from assistant.guard import guard, invents
from assistant.reading import Reading, merged, read_question
from assistant.refusal import in_scope, reads_as, refusal
from assistant.relevance import Clause, RelevanceModel, load_model, score
from assistant.retrieve import Retriever, SearchResult, check_filters
from assistant.safety import safety_notice
from assistant.stats import collect_stats
from assistant.support import OverlapJudge
from assistant.themes import themed_answer, with_headlines
from records.errors import CasebookError, ConfigError, GenerationError, IndexNotReady, InputError, ModelStopped
from records.settings import Settings, load_settings
from records.types import Answer, Chunk, Citation, Filters, NamedSource, ReviewHit, Stats
from vectorstore.catalog import open_catalog
from vectorstore.embedder import Embedder, load_embedder, unit_vectors
from vectorstore.indexer import IngestReport, run_ingest
from vectorstore.store import open_store

MAX_QUESTION_CHARS = 2000
LLM_STYLES = ("auto", "answer", "per_source", "headlines")
HEADLINE_QUOTES = 4  # a theme's quotes shown to the model to word its headline
THEMED_SOURCES = 24  # sources a themed answer may draw on (the first 10 are the ranking shown as sources)


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
        question = check_question(question)
        filters = self.check_filters(filters)
        rewritten = self._standalone(question, history)
        searched = rewritten or question
        notice = safety_notice(question)  # every kind of answer leads with it when a child may be at risk now
        named = self.retriever.names.in_question(question)  # read once: candidates, reading and search use it
        candidates = self.retriever.names.candidates(question, named)
        if candidates:
            return replace(self._candidates(question, candidates, filters), safety_notice=notice)
        reading = self.read(question, named)
        notes = tuple(f"Nothing in the collection is {u}; it holds {self._years()}." for u in reading.unmatched)
        if reading.counting:
            answer = self._count(question, reading, self.check_filters(merged(filters, reading.filters)))
            return replace(answer, read_as=reading.said, notes=(*answer.notes, *notes), safety_notice=notice)
        read = reading.filters
        if read.age_band:  # a theme question about "babies" keeps reviews of several children or unknown age
            read = replace(read, age_band=(*read.age_band, "multiple/unknown"))
        filters = self.check_filters(merged(filters, read))
        result = self.retriever.search_scored(searched, THEMED_SOURCES, filters, named_sources=None if rewritten else named)
        focus = topic(question) if rewritten else None
        if not in_scope(result, live_concern=notice is not None):
            answer = self._refusal(question, result, filters, notice)
        elif result.named:
            answer = compose(searched, result.hits[:10], filters, named={n.doc_id for n in result.named})
        else:
            # A follow-up's clauses are judged against the earlier question (and its new aspect), not
            # against the rewritten text, whose filler words ("and what did they …") mean nothing.
            asked = " ".join(filter(None, (focus, history[-1]))) if rewritten else None
            themed = self._themed(searched, result, filters, focus or None, asked, notice=notice, original=question)
            if themed is not None:
                answer = themed
            else:
                # A follow-up the stage finds nothing for keeps the plain answer (one point per source):
                # its judgements were made on standalone questions only, and "and what did they
                # recommend?" must not be told the collection has nothing on the topic just discussed.
                plain = replace(compose(searched, result.hits[:10], filters), focus=focus or None)
                answer = plain if rewritten else self._little(question, result, filters, notice)
        if not answer.refused and not answer.little and self.llm.backend != "extractive":
            # "headlines": a themed answer keeps its structure and the model words its headlines only.
            headlines = bool(answer.themes) and self.settings.llm_style == "headlines"
            answer = self._headlines(searched, answer) if headlines else self._generative(searched, answer, on_token)
        if not answer.refused:
            answer = replace(answer, question=question, safety_notice=notice)
        return replace(
            answer,
            standalone_question=rewritten,
            inferred_labels=tuple(i.label for i in result.inferred),
            named_sources=result.named,
            read_as=reading.said,
            notes=(*answer.notes, *notes),
        )

    def read(self, question: str, named: tuple[NamedSource, ...] | None = None) -> Reading:
        """The question's own filters and whether it asks for a count (assistant/reading.py). A
        question that names a source is about that source: nothing else is read from it."""
        if self.retriever.names.in_question(question) if named is None else named:
            return Reading()
        return read_question(question, years=self.years, areas=self.retriever.areas)

    def _candidates(self, question: str, candidates: Sequence[NamedSource], filters: Filters) -> Answer:
        """A question that may mean any of several reviews of the same name: list them to choose from."""
        firsts = [self.retriever.first(n.doc_id) for n in candidates]
        name = self.retriever.names.written_name(candidates[0].doc_id)
        answer = candidates_answer(question, firsts, self.retriever.chunks_of([c.doc_id for c in firsts]), name, filters)
        return replace(answer, named_sources=tuple(candidates))

    def _count(self, question: str, reading: Reading, filters: Filters) -> Answer:
        """A counting or listing question, answered exactly from the metadata (assistant/counting.py)."""
        firsts = self.retriever.matching(filters)
        if not filters.kind:  # "how many reviews …": case reviews, not briefings or notes
            firsts = [c for c in firsts if c.kind == "case_review"]
        how = "the reviews' own details (year, nation, area, the child's age, outcome)"
        if reading.topic:
            result = self.retriever.search_scored(reading.topic, THEMED_SOURCES, filters)
            covered, how = self.retriever.covering(reading.topic, result, filters, [h.doc_id for h in result.hits])
            ids = {c.doc_id for c in covered}
            firsts = [c for c in firsts if c.doc_id in ids]
        read_as = " · ".join(reading.said) or "every review"
        listed = self.retriever.chunks_of([c.doc_id for c in firsts[:MAX_LISTED]])
        return count_answer(question, firsts, listed, how, read_as, filters)

    def _themed(
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
        """The themed answer; with ``original`` (the question as asked, from ``ask``), the "little on
        this" answer quoting the closest passages when some bear on it but none heads a theme."""
        coverage = self.retriever.coverage(question, result, filters, [h.doc_id for h in result.hits])
        topic = self.retriever.topic(question, result)
        return themed_answer(
            question,
            result.hits,
            coverage,
            self.embedder.embed,
            filters,
            focus=focus,
            on_topic=topic.on_label,
            complete=self.retriever.with_findings,
            topic=topic,
            model=self.relevance,
            asked=asked,
            closest=None if original is None else lambda points, hits: self._little(original, result, filters, notice, points, hits),
        )

    def _refusal(self, question: str, result: SearchResult, filters: Filters, notice: str | None) -> Answer:
        return refusal(
            question,
            notice,
            filters,
            reviews=self._review_count(),
            years=self._years(),
            nearest=result.nearest_labels,
            reads_as=reads_as(result),
        )

    def _little(
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
            return self._refusal(question, result, filters, notice)
        about, how = self.retriever.covering(question, result, filters, [h.doc_id for h in result.hits])
        if self.retriever.loose_label(question, result):
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

    def themed(self, question: str, filters: Filters = Filters()) -> Answer | None:
        """The themed answer to a question about a topic (findings and recommendations several
        reviews share, with the topic's coverage), or None when too few sources speak to it."""
        filters = self.check_filters(filters)
        return self._themed(question, self.retriever.search_scored(question, THEMED_SOURCES, filters), filters)

    def on_question(self, question: str, points: Sequence[Point]) -> list[Point]:
        """The points the relevance stage judges on the question (assistant/relevance.py), most
        relevant first: what the trainer's prompts and briefings quote."""
        if not points:
            return []
        result = self.retriever.search_scored(question, THEMED_SOURCES)
        rank = {h.doc_id: i for i, h in enumerate(result.hits)}
        clauses = [Clause(p.quote, p.section, p.chunk.kind, p.hit.doc_id, rank.get(p.hit.doc_id, 20)) for p in points]
        vectors = unit_vectors(self.embedder, [question, *(p.quote for p in points)])
        model = self.relevance
        probability = score(question, self.retriever.topic(question, result), clauses, vectors[1:], vectors[0], model)
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

    # -- feedback ---------------------------------------------------------------------------------
    def record_feedback(self, answer: Answer, *, helpful: bool, comment: str = "") -> dict[str, Any]:
        """Append a thumbs up/down (and comment) on an answer to ``$CASEBOOK_HOME/feedback.jsonl``."""
        return record_feedback(self.settings.feedback_path, answer, helpful=helpful, comment=comment)

    def _generative(self, question: str, extractive: Answer, on_token: Callable[[str], None] | None) -> Answer:
        """The model's answer, checked by the guard; the extractive answer, with a note, when the model
        fails or too little of what it wrote can be checked against the sources."""
        label = self.llm.label
        style = self.settings.llm_style
        per_source = style == "per_source" or (style in ("auto", "headlines") and self.llm.backend == "llamacpp")
        try:
            generator = self.generator
            assert generator is not None
            if per_source:
                # One sentence per source, from the clause the extractive answer quotes: a small
                # model restates what it is given well and composes from several passages badly.
                first: dict[str, Citation] = {}
                for c in extractive.citations:
                    first.setdefault(c.chunk.doc_id, c)
                chosen = list(first.values())[: self.settings.llm_sources]
                sources = [c.chunk for c in chosen]
                parts = []
                for i, c in enumerate(chosen, 1):
                    line = generator.sentence(question, c.quote)
                    if line and not invents(line, c.chunk.text, question):
                        parts.append(f"{line[:-1]} [{i}]{line[-1]}")
                        if on_token is not None:
                            on_token(parts[-1] + " ")
                draft = " ".join(parts)
            else:
                sources = budget_sources(question, [h.best for h in extractive.sources[: self.settings.llm_sources]], self.settings)
                if on_token is None:
                    draft = generator.draft(question, sources)
                else:
                    tokens = []
                    for token in generator.stream(question, sources):
                        tokens.append(token)
                        on_token(token)
                    draft = "".join(tokens)
        except (GenerationError, ConfigError) as exc:
            return replace(extractive, notes=(fallback_note(exc, "Showing Casebook's extractive answer instead"),), written_by="fallback")
        checked = guard(draft, sources, self.judge)
        if checked is None:
            note = f"Too little of {label}'s answer could be checked against the sources, so this is Casebook's extractive answer."
            return replace(extractive, notes=(note,), written_by="fallback")
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
            themes=(),  # the extractive themes cite the extractive citations, which this answer replaces
            written_by=label,
        )

    def _headlines(self, question: str, themed: Answer) -> Answer:
        """The model's sentence for each theme two or more sources make, kept only when it brings in
        at most two content words of its own (``invents``) and the support judge finds it said by at least half
        of the theme's quotes; otherwise the theme keeps its verbatim clause. Citations, quotes and
        the coverage line never change."""
        label = self.llm.label
        written: dict[int, str] = {}
        tried = 0
        try:
            generator = self.generator
            assert generator is not None
            for i, theme in enumerate(themed.themes):
                if theme.reviews < 2:
                    continue  # one source's clause is already its own headline
                quotes = [themed.citations[n - 1].quote for n in theme.citations][:HEADLINE_QUOTES]
                tried += 1
                line = generator.headline(question, quotes)
                if self._headline_holds(line, quotes, question):
                    written[i] = line
        except (GenerationError, ConfigError) as exc:
            return replace(themed, notes=(fallback_note(exc, "The theme headlines are the reviews' own words"),), written_by="fallback")
        if not tried:
            return themed
        if not written:
            note = f"None of {label}'s theme headlines could be checked against their themes' quotes, so they are the reviews' own words."
            return replace(themed, notes=(note,), written_by="fallback")
        note = (
            f"{len(written)} of {tried} theme headlines written by {label}, each checked against the quotes of its theme; "
            "the quotes under each are the reviews' own words."
        )
        return replace(with_headlines(themed, written, label), notes=(note,), written_by=label)

    def _headline_holds(self, line: str, quotes: Sequence[str], question: str) -> bool:
        bare = line.strip()
        if not 3 <= len(bare.split()) <= 40 or "[" in bare or invents(bare, " ".join(quotes), question):
            return False
        said = sum(self.judge.verdicts([(bare, q) for q in quotes]))
        return said >= max(1, -(-len(quotes) // 2))

    def _review_count(self) -> int:
        return sum(c.kind == "case_review" for c in self.retriever.firsts)

    def _years(self) -> str:
        return years_span(self.retriever.firsts) or "in several years"


def fallback_note(exc: CasebookError, instead: str) -> str:
    """The note on an answer whose model failed: what happened, and what the answer is instead."""
    if isinstance(exc, ModelStopped):
        return f"{exc}; this answer is composed from the sources. The model is restarted for the next question."
    return f"{exc}. {instead}."
