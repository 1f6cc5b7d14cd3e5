"""Retrieved reviews → a themed answer: what several reviews found, and what they recommended.

NSPCC's thematic briefings are the model: recurring findings, how many reviews raised each, what
reviews recommended, with the reviews named. This module builds that from the reviews retrieval
found, still grounded by construction, without a language model:

1. **Candidates.** The first ``sources`` retrieved sources, less those NSPCC labelled as about
   something else (``on_topic``: the reviews carrying the label the question is most likely about,
   and sources no label describes), topped up in retrieval order to ``least``; a review retrieval
   found only by its summary is completed with its learning and recommendations (``complete``).
   From each, its clauses that best match the question's words (``answer.QueryTerms``), a few.
2. **About what was asked.** The relevance stage (assistant/answers/relevance.py) scores each clause with
   the probability that a practitioner would judge it on the question (meaning, words, section, and
   detectors for general practice points, boilerplate, fragments and web text); only clauses at or
   above its ``keep`` threshold are quoted. A follow-up's clauses must also be near its new aspect.
3. **Themes.** Clauses of one kind (findings: learning and what happened; recommendations) are
   grouped greedily by meaning, most relevant first: a clause joins the first theme whose seed it
   is close to (cosine ≥ ``group``) and that has no clause of its source yet. A theme is headed by
   its most relevant clause, verbatim, and only when that clause reaches the stage's ``head``
   threshold; at most the stage's ``most`` quotes in all.
4. **Order and wording.** Themes by how many sources support them; a theme resting on one review
   says so. Every source in a theme is cited on a line of its own with its own clause, so each
   line can be checked against the one source it cites. The opening line says how many reviews in
   the whole collection discuss the topic (``Coverage``, counted by the retriever, with the reviews
   the answer quotes when the labels missed them) and how they were counted.

Consumes ``ReviewHit`` records, a ``coverage`` function (the reviews quoted → their ``Coverage``),
and an ``embed`` function (the Embedder's); produces an ``Answer`` with ``themes`` and ``coverage``
set, or None when no clause speaks to the question (the caller then says the collection has little
on it). Wording: prompts/answer.toml [themes].
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answers.quotes import QueryTerms, cited_answer, clause_points, templates, years_span
from assistant.answers.relevance import Clause, RelevanceModel, Topic, load_model, score
from records.tuned import load_tuned
from records.types import Answer, Citation, Coverage, Filters, Point, ReviewHit, Theme

Embed = Callable[[Sequence[str]], list[list[float]]]


_TUNED = load_tuned()["themes"]


@dataclass(frozen=True)
class ThemeSettings:
    # records/tuned.toml [themes]: sources, least, per_source and group chosen on the tuning split by
    # evals/tune_themes.py. Which clauses may be quoted is the relevance stage's decision
    # (assistant/answers/relevance.py, fitted to practitioners' judgements), not a cosine floor here.
    sources: int = int(_TUNED["sources"])  # sources whose clauses are considered, in retrieval order
    least: int = int(_TUNED["least"])  # … topped up to this many from the ranking when too few of them are on the topic
    per_source: int = int(_TUNED["per_source"])  # candidate clauses per source (by word match) the relevance stage scores
    group: float = float(_TUNED["group"])  # cosine with a theme's seed clause to join the theme
    focus_floor: float = float(_TUNED["focus_floor"])  # cosine with the new aspect a follow-up's clause needs
    min_sources: int = int(_TUNED["min_sources"])  # sources with a clause on the question needed for a themed answer
    findings: int = int(_TUNED["findings"])  # themes shown of each kind
    recommendations: int = int(_TUNED["recommendations"])


@dataclass
class _Member:
    point: Point
    relevance: float
    vector: np.ndarray


def kind_of(point: Point) -> str | None:
    """A review's learning is a finding and its recommendations a recommendation; its summary (what
    happened to one child) is neither. Briefings, guidance and users' notes are findings."""
    if point.section == "recommendations":
        return "recommendation"
    if point.chunk.kind == "case_review" and point.section != "learning":
        return None
    return "finding"


def drawn_on(hits: Sequence[ReviewHit], on_topic: Collection[str] | None, cfg: ThemeSettings) -> list[ReviewHit]:
    """The first ``cfg.sources`` hits that are on the topic, topped up in ranking order to
    ``cfg.least`` (a source off the topic may still be the best there is)."""
    first = list(hits[: cfg.sources])
    if on_topic is None:
        return first
    kept = [h for h in first if h.doc_id in on_topic]
    return kept + [h for h in hits if h not in kept][: max(0, cfg.least - len(kept))]


def candidates(hits: Sequence[ReviewHit], query: QueryTerms, per_source: int) -> list[Point]:
    """Each source's best clauses by word match, distinct quotes only."""
    out: list[Point] = []
    seen: set[str] = set()
    for hit in hits:
        mine = [p for passage in hit.passages for p in clause_points(hit, passage.chunk, query)]
        mine.sort(key=lambda p: -p.score)
        for p in mine:
            if p.quote in seen:
                continue
            seen.add(p.quote)
            out.append(p)
            if sum(1 for q in out if q.hit.doc_id == hit.doc_id) >= per_source:
                break
    return out


CLOSEST = 3  # closest passages quoted when no theme can be headed
SHORT_BATCH = 16  # clauses embedded together: a batch is padded to its longest, so short ones go with short ones


def embed_short(texts: Sequence[str], embed: Embed) -> list[list[float]]:
    """``embed(texts)`` in batches of similar length, in the texts' order (about a third faster for
    the 30–50 clauses of an answer than one batch padded to the longest)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[list[float]] = [[] for _ in texts]
    for start in range(0, len(order), SHORT_BATCH):
        at = order[start : start + SHORT_BATCH]
        for i, v in zip(at, embed([texts[i] for i in at]), strict=True):
            out[i] = v
    return out


def _unit(vectors: list[list[float]]) -> np.ndarray:
    a = np.asarray(vectors, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)


def group(members: list[_Member], threshold: float) -> list[list[_Member]]:
    """Greedy grouping by meaning, most relevant first; one clause per source in a group."""
    groups: list[list[_Member]] = []
    for m in sorted(members, key=lambda m: -m.relevance):
        for g in groups:
            if m.point.hit.doc_id in {x.point.hit.doc_id for x in g}:
                continue
            if float(g[0].vector @ m.vector) >= threshold:
                g.append(m)
                break
        else:
            groups.append([m])
    return groups


def pool(
    question: str,
    hits: Sequence[ReviewHit],
    cfg: ThemeSettings,
    *,
    focus: str | None = None,
    on_topic: Collection[str] | None = None,
    complete: Callable[[list[ReviewHit]], list[ReviewHit]] | None = None,
) -> tuple[list[ReviewHit], list[Point]]:
    """The clauses a themed answer may quote (findings and recommendations of the sources drawn on,
    a few per source by word match), and ``hits`` with each drawn review completed with what it is
    quoted from."""
    query = QueryTerms.of(question if not focus else f"{focus} {question}")
    drawn = drawn_on(hits, on_topic, cfg)
    if complete is not None:
        drawn = complete(drawn)
        completed = {h.doc_id: h for h in drawn}
        hits = [completed.get(h.doc_id, h) for h in hits]  # the answer's sources carry what it quotes
    return list(hits), [p for p in candidates(drawn, query, cfg.per_source) if kind_of(p)]


def themed_answer(
    question: str,
    hits: Sequence[ReviewHit],
    coverage: Callable[[Collection[str]], Coverage],
    embed: Embed,
    filters: Filters = Filters(),
    focus: str | None = None,
    settings: ThemeSettings | None = None,
    on_topic: Collection[str] | None = None,
    complete: Callable[[list[ReviewHit]], list[ReviewHit]] | None = None,
    topic: Topic | None = None,
    model: RelevanceModel | None = None,
    asked: str | None = None,
    closest: Callable[[list[Point], list[ReviewHit]], Answer] | None = None,
) -> Answer | None:
    """The themed answer (see the module docstring), or None when no clause speaks to the question.
    ``on_topic``: the sources (of ``hits``) judged to be about the question's topic; None: all.
    ``complete``: adds a drawn review's learning and recommendations when retrieval found only its
    summary (``Retriever.with_findings``). ``topic`` and ``model``: the relevance stage's view of
    the question and its model (assistant/answers/relevance.py); ``asked``: what the clauses are judged
    against, when not the question itself (a follow-up's earlier question and new aspect);
    ``closest``: the answer to give, from the closest clauses (at most ``CLOSEST``, one per source),
    when some clause may bear on the question but none is on it squarely enough to head a theme, or
    only one clause would be quoted (None: no themed answer then)."""
    cfg = settings or ThemeSettings()
    model = model or load_model()
    topic = topic or Topic(expanded=question, on_label=None if on_topic is None else frozenset(on_topic))
    hits, points = pool(question, hits, cfg, focus=focus, on_topic=on_topic, complete=complete)
    if not points:
        return None
    probes = [asked or question] if not focus else [asked or question, focus]
    vectors = _unit(embed_short([*probes, *(p.quote for p in points)], embed))
    clause_vectors = vectors[len(probes) :]
    rank = {h.doc_id: i for i, h in enumerate(hits)}
    clauses = [Clause(p.quote, p.section, p.chunk.kind, p.hit.doc_id, rank.get(p.hit.doc_id, 20)) for p in points]
    relevance = score(asked or question, topic, clauses, clause_vectors, vectors[0], model)
    if focus:  # a follow-up's clause must also be about its new aspect
        relevance = np.where(clause_vectors @ vectors[1] >= cfg.focus_floor, relevance, 0.0)
    members = [_Member(p, float(r), v) for p, r, v in zip(points, relevance, clause_vectors, strict=True) if r >= model.keep]
    if len({m.point.hit.doc_id for m in members}) < cfg.min_sources:
        return None

    chosen: list[tuple[str, list[_Member]]] = []
    for kind, most in (("finding", cfg.findings), ("recommendation", cfg.recommendations)):
        groups = group([m for m in members if kind_of(m.point) == kind], cfg.group)
        groups = [g for g in groups if g[0].relevance >= model.head]  # headed by a clause on the question
        groups = one_alone_per_source(groups)
        groups.sort(key=lambda g: (-len(g), -g[0].relevance))
        chosen.extend((kind, g) for g in groups[:most])
    chosen = capped(chosen, model.most)  # what a reader can take in: precision over volume
    # One passage is not a theme: quoted alone it is the closest passage, shown as such (on the tuning
    # split, 2 of 7 answers resting on one quote quoted nothing on the question; none of 23 with more).
    # A follow-up (``asked``) keeps it: it answers the conversation so far, not a new topic.
    alone = closest is not None and asked is None and sum(len(g) for _, g in chosen) == 1
    # Themes claim that reviews speak to the question: only when some clause is on it surely enough
    # (``little``); below that, the closest passages are shown as such.
    unsure = closest is not None and bool(members) and max(m.relevance for m in members) < model.little
    if not chosen or alone or unsure:
        if closest is None or not members:
            return None
        # Clauses that speak to the question as surely as a theme's headline must (``head``) but cannot
        # head one (a review's summary of what happened): shown as the closest passages, one per source,
        # never as what reviews found. Below ``head`` they were mostly judged near, not on (the tuning
        # split: 7 of 22 on), so a "little" answer then quotes nothing and names the reviews to read.
        nearest: list[_Member] = []
        for m in sorted(members, key=lambda m: -m.relevance):
            if m.relevance >= model.head and m.point.hit.doc_id not in {n.point.hit.doc_id for n in nearest}:
                nearest.append(m)
        return closest([m.point for m in nearest[:CLOSEST]], hits)
    return _write(question, hits, coverage, chosen, filters, focus, cfg)


def one_alone_per_source(groups: list[list[_Member]]) -> list[list[_Member]]:
    """A source's clauses that no other source shares make one theme of that source, its most
    relevant clause, not one theme each ("found in one source only" said four times of one source)."""
    seen: set[str] = set()
    out = []
    for g in groups:
        if len(g) == 1:
            if g[0].point.hit.doc_id in seen:
                continue
            seen.add(g[0].point.hit.doc_id)
        out.append(g)
    return out


def capped(chosen: list[tuple[str, list[_Member]]], most: int) -> list[tuple[str, list[_Member]]]:
    """At most ``most`` quotes in all, as many themes as possible headed first: every theme keeps its
    headline, then the themes' other sources fill what is left, most relevant first."""
    chosen = chosen[:most]
    room = most - len(chosen)
    rest = sorted(((m.relevance, i, m) for i, (_, g) in enumerate(chosen) for m in g[1:]), key=lambda t: -t[0])
    keep = {id(m) for _, _, m in rest[: max(0, room)]}
    return [(kind, [g[0], *(m for m in g[1:] if id(m) in keep)]) for kind, g in chosen]


def _write(
    question: str,
    hits: Sequence[ReviewHit],
    coverage: Callable[[Collection[str]], Coverage],
    chosen: list[tuple[str, list[_Member]]],
    filters: Filters,
    focus: str | None,
    cfg: ThemeSettings,
) -> Answer:
    citations: list[Citation] = []
    themes: list[Theme] = []
    for kind, g in chosen:
        head = g[0]  # the clause most likely on the question heads its theme
        rest = sorted(g[1:], key=lambda m: -m.relevance)
        first = len(citations) + 1
        for m in (head, *rest):  # the headline's source first, then every other source making the point
            citations.append(m.point.cite(len(citations) + 1))
        themes.append(
            Theme(
                heading=head.point.quote,
                kind=kind,
                reviews=len(g),
                years=years_span([m.point.chunk for m in g]),  # shown by the surfaces, not in the line
                citations=tuple(range(first, len(citations) + 1)),
            )
        )
    used = {c.chunk.doc_id for c in citations}
    counted = coverage(used)
    markers = "".join(f"[{c.n}]" for c in citations)
    lines = [coverage_line(counted, len(used), markers), *(line for th in themes for line in theme_lines(th, citations))]
    return cited_answer(question, lines, citations, hits, filters, themes=tuple(themes), coverage=counted, focus=focus)


def theme_lines(theme: Theme, citations: Sequence[Citation], written: str | None = None) -> list[str]:
    """A theme's lines in the answer: its headline line, then every other source on a line of its own
    with its own clause. With ``written`` (a model's checked sentence naming the shared point), the
    headline line cites every source of the theme and each source follows with its own clause."""
    t = templates()["themes"]
    cited = [citations[n - 1] for n in theme.citations]
    head = cited[0]
    reviews = all(c.chunk.kind == "case_review" for c in cited)
    noun = ("review" if reviews else "source") + ("s" if len(cited) > 1 else "")

    def support(c: Citation) -> str:
        return str(t["support"].format(heading=c.chunk.display_heading, quote=c.quote, marker=f"[{c.n}]"))

    if written:
        sentence = written.strip().rstrip(".!?").strip()
        markers = "".join(f"[{c.n}]" for c in cited)
        return [t[theme.kind]["written"].format(count=len(cited), noun=noun, headline=sentence, markers=markers), *map(support, cited)]
    if len(cited) == 1:
        line = t[theme.kind]["one"].format(noun=noun, heading=head.chunk.display_heading, quote=head.quote, marker=f"[{head.n}]")
    else:
        line = t[theme.kind]["many"].format(count=len(cited), noun=noun, quote=head.quote, marker=f"[{head.n}]")
    return [line, *map(support, cited[1:])]


def with_headlines(answer: Answer, written: Mapping[int, str], label: str) -> Answer:
    """The themed answer with the headlines a language model wrote (theme index → checked sentence)
    in place of the verbatim clauses; every citation, quote and the coverage line stay as they were."""
    lines = answer.text.split("\n")[:1]  # the coverage line
    themes = []
    for i, theme in enumerate(answer.themes):
        lines += theme_lines(theme, answer.citations, written.get(i))
        themes.append(replace(theme, heading=written[i], written_by=label) if i in written else theme)
    return replace(answer, text="\n".join(lines), themes=tuple(themes))


def coverage_line(coverage: Coverage, cited: int, markers: str) -> str:
    """ "42 reviews in the collection (2019–2025; England 40, Wales 2) discuss this, counted as …;
    the themes below draw on the 14 most relevant [1]…[n]." """
    t = templates()["themes"]
    if coverage.approximate:
        return str(t["approximate"].format(label=coverage.approximate, cited=cited, s="" if cited == 1 else "s", markers=markers))
    if not coverage.reviews:  # e.g. filtered to briefings: no review count to give
        return str(t["no_reviews"].format(cited=cited, s="" if cited == 1 else "s", markers=markers))
    split = [f"{n} {count}" for n, count in coverage.by_nation]
    detail = "; ".join(part for part in (coverage.years or "", ", ".join(split)) if part)
    return str(
        t["coverage"].format(
            count=coverage.reviews,
            s="" if coverage.reviews == 1 else "s",
            discuss="discusses" if coverage.reviews == 1 else "discuss",
            detail=f" ({detail})" if detail else "",
            how=coverage.how,
            cited=cited,
            sources="source" if cited == 1 else "sources",
            markers=markers,
        )
    )
