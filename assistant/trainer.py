"""Trainer mode: cited discussion prompts and 7-minute briefings, built from retrieved learning.

Consumes a ``Library`` (the ``Casebook`` facade) and a theme; produces ``Prompts`` and ``Briefing``
objects in which every factual line quotes a review verbatim and cites it ([n], with a ``Citation``
whose quote is a slice of the review's text). No LLM: the wording comes from prompts/trainer.toml. A theme with too little
material says so ("only 1 review in the collection discusses …") instead of padding.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

from assistant.answers.quotes import QueryTerms, clauses, similar_groups, years_span
from assistant.answers.refusal import in_scope
from assistant.retrieval.ranking import SearchResult
from assistant.retrieval.vocabulary import matched_groups
from prompts import FOLDER
from records.errors import InputError
from records.text import phrase_form, stems
from records.types import Answer, Chunk, Citation, Filters, Point, ReviewHit

SEARCH_K = 20
MIN_REVIEWS_FOR_BRIEFING = 3


class Library(Protocol):
    """What the trainer asks of the collection: the ``Casebook`` facade offers exactly this."""

    def search_scored(self, query: str, k: int = 10, filters: Filters = Filters()) -> SearchResult: ...

    def labels_in(self, text: str) -> set[str]: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...

    def trainer_question(self, quote: str) -> str | None: ...

    def themed(self, question: str, filters: Filters = Filters()) -> Answer | None: ...

    def on_question(self, question: str, points: Sequence[Point]) -> list[Point]:
        """The points the relevance stage finds on the question, most relevant first."""
        ...


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    with open(FOLDER / "trainer.toml", "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class Line:
    """A line of trainer output: text with [n] markers (empty ``cites`` for questions and headings)."""

    text: str
    cites: tuple[int, ...] = ()


@dataclass(frozen=True)
class Prompts:
    theme: str
    lines: tuple[Line, ...]
    citations: tuple[Citation, ...]
    notice: str | None


@dataclass(frozen=True)
class Briefing:
    theme: str
    title: str
    subtitle: str
    sections: tuple[tuple[str, tuple[Line, ...]], ...]
    action_columns: tuple[str, ...]
    action_rows: int
    citations: tuple[Citation, ...]
    references: tuple[ReviewHit, ...]
    notice: str | None


def relevant_reviews(cb: Library, theme: str, filters: Filters) -> list[ReviewHit]:
    """Case reviews about the theme: retrieved, and saying so in their own text or labels — every
    content word of the theme, or a term of a vocabulary group the theme uses, or an NSPCC label of
    that group — so that a review that merely shares a word does not pad the material."""
    result = cb.search_scored(theme, SEARCH_K, filters)
    if not in_scope(result):
        return []
    groups = matched_groups(theme)
    terms = [phrase_form(t) for g in groups for t in (*g.terms, *g.expand)]
    labels = {k for g in groups for k in g.keywords} | cb.labels_in(theme)
    wanted = stems(theme)
    out = []
    for hit in result.hits:
        if hit.best.kind != "case_review":
            continue
        text = " ".join(c.text for c in cb.chunks_of(hit.doc_id))
        normalised = phrase_form(text)
        if (
            (wanted and wanted <= stems(text))
            or any(t in normalised for t in terms)
            or labels & {k.lower() for k in hit.best.meta.keywords}
        ):
            out.append(hit)
    return out


def review_points(cb: Library, hit: ReviewHit, query: QueryTerms, per_section: int = 6) -> list[Point]:
    """A review's best learning and recommendation clauses for the theme by its words, a few of each
    (the relevance stage then keeps those on the theme)."""
    found: dict[str, list[Point]] = {}
    for chunk in cb.chunks_of(hit.doc_id):
        if chunk.section not in ("learning", "recommendations"):
            continue
        for offset, clause in clauses(chunk):
            found.setdefault(chunk.section, []).append(
                Point(hit=hit, chunk=chunk, quote=clause, offset=offset, score=query.score(clause, chunk.section))
            )
    best = [p for ps in found.values() for p in sorted(ps, key=lambda p: -p.score)[:per_section]]
    return sorted(best, key=lambda p: -p.score)


def _one_per_section(points: Sequence[Point]) -> list[Point]:
    """Each review's most relevant learning clause and recommendation clause, in the given order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for p in points:
        if (p.hit.doc_id, p.section) not in seen:
            seen.add((p.hit.doc_id, p.section))
            out.append(p)
    return out


def _distinct(points: Sequence[Point]) -> list[list[Point]]:
    """Points grouped by learning point: one group per idea, several reviews in a group."""
    groups = similar_groups([p.quote for p in points], apart=[p.hit.doc_id for p in points])
    return [[points[i] for i in g] for g in groups]


class _Citer:
    """Numbers citations in order of first use across one output."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._by_key: dict[tuple[str, int], int] = {}

    def cite(self, p: Point) -> int:
        key = (p.chunk.chunk_id, p.offset)
        if key not in self._by_key:
            n = len(self.citations) + 1
            self.citations.append(p.cite(n))
            self._by_key[key] = n
        return self._by_key[key]

    def cite_citation(self, c: Citation) -> int:
        """The same quote, numbered in this output."""
        key = (c.chunk.chunk_id, c.quote_start - c.chunk.start)
        if key not in self._by_key:
            n = len(self.citations) + 1
            self.citations.append(replace(c, n=n))
            self._by_key[key] = n
        return self._by_key[key]

    def cite_review(self, hit: ReviewHit, chunks: Sequence[Chunk]) -> int:
        """A citation of what happened: the first clause of the review's summary."""
        chunk = next((c for c in chunks if c.section == "summary"), hit.best)
        offset, clause = (clauses(chunk) or [(0, chunk.text)])[0]
        return self.cite(Point(hit=hit, chunk=chunk, quote=clause, offset=offset, score=0.0))


def _too_little(theme: str, count: int, key: str, **extra: object) -> str:
    t = templates()
    if count == 0:
        return str(t["nothing"].format(theme=theme))
    words = {
        "reviews": "review" if count == 1 else "reviews",
        "discuss": "discusses" if count == 1 else "discuss",
        "prompts": "prompt" if extra.get("made") == 1 else "prompts",
    }
    return str(t[key].format(count=count, theme=theme, **words, **extra))


def _markers(ns: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(ns))


def discussion_prompts(cb: Library, theme: str, filters: Filters = Filters(), n: int = 5) -> Prompts:
    if not 1 <= n <= 20:
        raise InputError(f"--n: expected 1 to 20 prompts, got {n}")
    reviews = relevant_reviews(cb, theme, filters)
    query = QueryTerms.of(theme)
    points = cb.on_question(theme, [p for hit in reviews for p in review_points(cb, hit, query)])
    groups = _distinct(_one_per_section(points))[:n]
    notice = None if len(groups) >= n else _too_little(theme, len(reviews), "too_little_prompts", made=len(groups), wanted=n)
    t = templates()["prompt"]
    asks = templates()["ask"]
    citer = _Citer()
    lines = []
    for group in groups:
        first = group[0]
        ns = [citer.cite(p) for p in group]
        kind = "shared" if len(group) > 1 else first.section
        ask = cb.trainer_question(first.quote) or asks[kind]
        text = t[kind].format(count=len(group), heading=first.chunk.heading, quote=first.quote, markers=_markers(ns), ask=ask)
        lines.append(Line(text=text, cites=tuple(ns)))
    return Prompts(theme=theme, lines=tuple(lines), citations=tuple(citer.citations), notice=notice)


def _years(hits: Sequence[ReviewHit]) -> str:
    return years_span([h.best for h in hits]) or "in several years"


def seven_minute_briefing(cb: Library, theme: str, filters: Filters = Filters()) -> Briefing:
    t = templates()["briefing"]
    reviews = relevant_reviews(cb, theme, filters)[:10]
    notice = (
        None
        if len(reviews) >= MIN_REVIEWS_FOR_BRIEFING
        else _too_little(theme, len(reviews), "too_little_briefing", needed=MIN_REVIEWS_FOR_BRIEFING)
    )
    citer = _Citer()
    sections: list[tuple[str, tuple[Line, ...]]] = []
    names = t["sections"]
    if reviews:
        case_ns = [citer.cite_review(h, cb.chunks_of(h.doc_id)) for h in reviews[:3]]
        background = [
            Line(
                t["background"].format(
                    count=len(reviews),
                    reviews="review" if len(reviews) == 1 else "reviews",
                    years=_years(reviews),
                    theme=theme,
                    markers=_markers(case_ns),
                ),
                tuple(case_ns),
            )
        ]
        for h, n_ in zip(reviews[:3], case_ns, strict=True):
            c = citer.citations[n_ - 1]
            background.append(Line(t["case_line"].format(heading=h.best.heading, quote=c.quote, marker=f"[{n_}]"), (n_,)))
        sections.append((names[0], tuple(background)))

        why: list[Line] = []
        for outcome, key in (("death", "outcomes_death"), ("serious harm", "outcomes_harm")):
            hits = [h for h in reviews if h.best.meta.outcome == outcome]
            if hits:
                ns = [citer.cite_review(h, cb.chunks_of(h.doc_id)) for h in hits]
                why.append(Line(t[key].format(count=len(hits), markers=_markers(ns)), tuple(ns)))
        sections.append((names[1], tuple(why)))

        # The same themes the chat answers with (each theme's citations, renumbered here), then, where
        # they are too few for the sections, the reviews' best clauses grouped by shared words.
        themed = cb.themed(theme, filters)
        theme_groups = {
            kind: [[themed.citations[n - 1] for n in th.citations] for th in themed.themes if th.kind == kind] if themed else []
            for kind in ("finding", "recommendation")
        }
        query = QueryTerms.of(theme)
        points = _one_per_section(cb.on_question(theme, [p for h in reviews for p in review_points(cb, h, query)]))

        def word_groups(section: str) -> list[list[Citation]]:
            return [[p.cite(0) for p in g] for g in _distinct([p for p in points if p.section == section])]

        def merged(kind: str, section: str) -> list[list[Citation]]:
            groups = theme_groups[kind]
            used = {c.chunk.doc_id for g in groups for c in g}
            return groups + [g for g in word_groups(section) if not used & {c.chunk.doc_id for c in g}]

        learning_groups = merged("finding", "learning")
        rec_groups = merged("recommendation", "recommendations")

        def lines_of(groups: Sequence[list[Citation]]) -> tuple[Line, ...]:
            out = []
            for g in groups:
                ns = [citer.cite_citation(c) for c in g]
                if len(g) > 1:
                    text = t["shared_point"].format(count=len(g), heading=g[0].chunk.heading, quote=g[0].quote, markers=_markers(ns))
                else:
                    text = t["point"].format(heading=g[0].chunk.heading, quote=g[0].quote, marker=f"[{ns[0]}]")
                out.append(Line(text, tuple(ns)))
            return tuple(out)

        def or_nothing(lines: tuple[Line, ...]) -> tuple[Line, ...]:
            return lines or (Line(t["nothing_more"].format(theme=theme)),)

        sections.append((names[2], or_nothing(lines_of(learning_groups[:3]))))
        sections.append((names[3], or_nothing(lines_of(learning_groups[3:6]))))
        sections.append((names[4], or_nothing(lines_of(rec_groups[:3]))))
    else:
        sections.extend((name, ()) for name in names[:5])
    sections.append((names[5], tuple(Line(q) for q in t["questions"])))
    sections.append((names[6], ()))
    cited_docs = list(dict.fromkeys(c.chunk.doc_id for c in citer.citations))
    by_doc = {h.doc_id: h for h in reviews}
    return Briefing(
        theme=theme,
        title=t["title"].format(theme=theme),
        subtitle=t["subtitle"].format(count=len(reviews), reviews="review" if len(reviews) == 1 else "reviews", years=_years(reviews)),
        sections=tuple(sections),
        action_columns=tuple(t["action_columns"]),
        action_rows=int(t["action_rows"]),
        citations=tuple(citer.citations),
        references=tuple(by_doc[d] for d in cited_docs if d in by_doc),
        notice=notice,
    )
