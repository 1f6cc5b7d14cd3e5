"""Retrieved reviews → a grounded answer, composed without any LLM.

Consumes ``ReviewHit`` records; produces an ``Answer`` whose every sentence carries [n] markers and
whose every citation holds a quote cut verbatim from a retrieved passage (so from the source text:
passages are exact slices). The wording comes from prompts/answer.toml. Refusal lives in
refusal.py, the live-concern notice in safety.py, the JSON shapes in shapes.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

from assistant.retrieve import expand_question, matched_groups
from prompts import FOLDER
from records.text import stem_list, stems
from records.types import Answer, Chunk, Citation, Filters, ReviewHit

MAX_POINTS = 6
NAMED_POINTS = 4  # a named source's own points, when the question asks for no part in particular
MAX_NAMED_PART = 12  # …and when it asks for one ("what did it recommend?"): all of them, up to this
MAX_RELATED = 3  # other reviews shown after a named source's points
LITTLE_NEAREST = 3  # sources named as the nearest when none speaks to the question
MAX_QUOTE_CHARS = 320
GROUP_SIMILARITY = 0.34
# Markers that open a part of a review; a quote starts after them.
_LEAD = re.compile(
    r"^(?:(?:key )?learning|findings|lessons|recommendations?)\b[^:;.\n]{0,60}:\s*(?:(?:includes?|include)\s*:\s*)?|"
    r"^(?:[-*•➤]|\d{1,2}[.)])\s+|^(?:and|or)\s+",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"(?<=;)\s+|(?<=[.!?])\s+(?=[A-Z0-9“‘\"'(])|\n+")


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    with open(FOLDER / "answer.toml", "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class Point:
    """A clause of one source, quoted verbatim, and how well it matches what was asked."""

    hit: ReviewHit
    chunk: Chunk
    quote: str
    offset: int  # of the quote within chunk.text
    score: float

    @property
    def section(self) -> str:
        return self.chunk.section

    def cite(self, n: int) -> Citation:
        return Citation.at(n, self.chunk, self.quote, self.offset)


def clauses(chunk: Chunk) -> list[tuple[int, str]]:
    """(offset, text) of each clause of a passage with its lead-in marker and end punctuation cut."""
    out: list[tuple[int, str]] = []
    text = chunk.text
    pos = 0
    for m in [*_CLAUSE.finditer(text), None]:
        end = m.start() if m else len(text)
        start = pos
        piece = text[start:end]
        while True:
            lead = _LEAD.match(piece)
            if not lead or not lead.group(0):
                break
            start += lead.end()
            piece = text[start:end]
        stripped = piece.rstrip(" ;.,:")
        lead_ws = len(stripped) - len(stripped.lstrip())
        stripped = stripped.strip()
        if len(stripped.split()) >= 4:
            out.append((start + lead_ws, stripped))
        pos = m.end() if m else len(text)
    return out


_BULLET = re.compile(r"(?:^|\n)[ \t]*(?:[-*•➤]|\d{1,2}[.)])[ \t]+$")
MAX_LIST_ITEMS = 8


def list_items(chunk: Chunk, offset: int, clause: str) -> list[tuple[int, str]]:
    """When the clause at ``offset`` introduces a list ("Factors increasing the risk to an infant
    include:" followed by bullet lines), the list's items as (offset, text) clauses, in order; else
    nothing. An item is a clause whose line starts with a bullet or a number."""
    after = chunk.text[offset + len(clause) :]
    if not after.lstrip(" ").startswith(":"):
        return []
    items: list[tuple[int, str]] = []
    for o, c in clauses(chunk):
        if o <= offset:
            continue
        if not _BULLET.search(chunk.text[max(0, o - 12) : o]):
            break
        items.append((o, c))
        if len(items) >= MAX_LIST_ITEMS:
            break
    return items


def _trim_quote(quote: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """At most ``limit`` characters, cut at a word: still a verbatim prefix of the clause."""
    if len(quote) <= limit:
        return quote
    cut = quote.rfind(" ", 0, limit)
    return quote[: cut if cut > 0 else limit].rstrip(" ,;:")


def clause_points(hit: ReviewHit, chunk: Chunk, query: QueryTerms) -> list[Point]:
    """Every clause of a passage as a scored point; a clause that introduces a list stands for its
    items (the lead-in says nothing itself), each scored with the lead-in's words."""
    out = []
    for offset, clause in clauses(chunk):
        for o, text in list_items(chunk, offset, clause) or [(offset, clause)]:
            score = query.score(clause + " " + text, chunk.section)
            out.append(Point(hit=hit, chunk=chunk, quote=_trim_quote(text), offset=o, score=score))
    return out


@dataclass(frozen=True)
class QueryTerms:
    """What a clause is matched against: the (expanded) question's word stems, the question's own
    adjacent word pairs (a phrase match outweighs scattered words), and the part of a review the
    question asks for ("learn" → learning, "recommend" → recommendations)."""

    stems: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    wants: str | None

    @classmethod
    def of(cls, question: str) -> QueryTerms:
        expanded = expand_question(question, matched_groups(question))
        own = stem_list(question)
        wants = None
        if re.search(r"\brecommend", question, re.IGNORECASE):
            wants = "recommendations"
        elif re.search(r"\b(?:learn|lesson)", question, re.IGNORECASE):
            wants = "learning"
        return cls(stems=frozenset(stems(expanded)), pairs=frozenset(pairwise(own)), wants=wants)

    def score(self, clause: str, section: str) -> float:
        words = stem_list(clause)
        overlap = len(set(words) & self.stems)
        phrases = len(set(pairwise(words)) & self.pairs)
        bonus = 1.5 if section in ("learning", "recommendations") else 0.0
        if self.wants and section == self.wants:
            bonus += 1.5
        return overlap + 2.0 * phrases + bonus


def best_point(hit: ReviewHit, query: QueryTerms) -> Point:
    """The clause of a document's retrieved passages that best matches the question; the passage
    order breaks ties, and learning or recommendations are preferred over the case summary."""
    best: Point | None = None
    for rank, passage in enumerate(hit.passages):
        chunk = passage.chunk
        for offset, clause in clauses(chunk):
            score = query.score(clause, chunk.section) - 0.3 * rank
            if best is None or score > best.score:
                quote = _trim_quote(clause)
                best = Point(hit=hit, chunk=chunk, quote=quote, offset=offset, score=score)
    if best is None:  # a passage too short to have a clause: quote it whole
        chunk = hit.best
        best = Point(hit=hit, chunk=chunk, quote=_trim_quote(chunk.text.strip()), offset=chunk.text.find(chunk.text.strip()), score=0)
    return best


def similar_groups(quotes: Sequence[str], apart: Sequence[str] | None = None) -> list[list[int]]:
    """Indexes of quotes that say much the same thing (Jaccard overlap of their stems against the
    group's first quote), first come first. Quotes with the same ``apart`` key (e.g. two points of one
    review) never share a group."""
    words = [stems(q) for q in quotes]
    groups: list[list[int]] = []
    for i, s in enumerate(words):
        for g in groups:
            t = words[g[0]]
            clash = apart is not None and any(apart[j] == apart[i] for j in g)
            if s and t and not clash and len(s & t) / len(s | t) >= GROUP_SIMILARITY:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def overview_line(citations: Sequence[Citation]) -> str:
    """ "6 case reviews in the collection, published 2019–2022, speak most directly to this question
    [1]…[6]": a claim about the cited sources, citing all of them."""
    docs = {c.chunk.doc_id: c.chunk for c in citations}
    reviews = sum(1 for c in docs.values() if c.kind == "case_review")
    others = len(docs) - reviews
    sources = " and ".join(
        part
        for part in (
            f"{reviews} case review{'s' if reviews != 1 else ''}" if reviews else "",
            f"{others} other source{'s' if others != 1 else ''}" if others else "",
        )
        if part
    )
    markers = "".join(f"[{c.n}]" for c in citations)
    speak = "speaks" if len(docs) == 1 else "speak"
    return str(templates()["overview"].format(sources=sources, years=_years(list(docs.values())), speak=speak, markers=markers))


def years_span(chunks: Sequence[Chunk]) -> str | None:
    """ "2019–2022" (or "2023") over the chunks' publication years; None when none has a year."""
    years = sorted({c.meta.year for c in chunks if c.meta.year})
    if not years:
        return None
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def _years(chunks: Sequence[Chunk]) -> str:
    span = years_span(chunks)
    return f", published {span}," if span else ""


def cited_answer(
    question: str, lines: Sequence[str], citations: Sequence[Citation], sources: Sequence[ReviewHit], filters: Filters, **extra: Any
) -> Answer:
    """An answer composed from cited lines (not a refusal): the one constructor every composer uses
    (a "little on this" answer too, whose lines may cite nothing)."""
    return Answer(
        question=question,
        text="\n".join(lines),
        refused=False,
        safety_notice=None,
        citations=tuple(citations),
        sources=tuple(sources),
        filters=filters,
        **extra,
    )


def source_points(hit: ReviewHit, query: QueryTerms, most: int = NAMED_POINTS) -> list[Point]:
    """A named source's own points: its clauses that best match the question, no two alike. When the
    question asks for a part ("what did it recommend?") every clause of that part is given (up to
    MAX_NAMED_PART), in the source's order."""
    every = [p for passage in hit.passages for p in clause_points(hit, passage.chunk, query)]
    if query.wants and (part := [p for p in every if p.section == query.wants]):
        part.sort(key=lambda p: (p.chunk.index, p.offset))
        chosen = part[:MAX_NAMED_PART]
    else:
        chosen = sorted(every, key=lambda p: -p.score)[: most * 2]
    if not chosen:
        return [best_point(hit, query)]
    kept = [chosen[g[0]] for g in similar_groups([p.quote for p in chosen])]
    seen: set[str] = set()
    out = []
    for p in kept:
        if p.quote not in seen:
            seen.add(p.quote)
            out.append(p)
    return out if query.wants else out[:most]


def compose_named(question: str, named: Sequence[ReviewHit], related: Sequence[ReviewHit], filters: Filters = Filters()) -> Answer:
    """The answer to a question about particular sources: each named source's own points, then a
    few related reviews, each cited; the overview line says which is which."""
    t = templates()
    query = QueryTerms.of(question)
    points: list[Point] = []
    for hit in named:
        points.extend(source_points(hit, query))
    own = len(points)
    points.extend(best_point(h, query) for h in related[:MAX_RELATED])
    citations = [p.cite(i + 1) for i, p in enumerate(points)]
    markers = "".join(f"[{c.n}]" for c in citations)
    extra = len(points) - own
    sentences = [
        t["named"]["overview"].format(
            names="; ".join(h.best.display_heading for h in named),
            related=t["named"]["related_count"].format(count=extra, s="" if extra == 1 else "s") if extra else "",
            markers=markers,
        )
    ]
    for i, p in enumerate(points):
        if i < own:
            template = t["point"].get(p.chunk.section if p.chunk.kind == "case_review" else "other", t["point"]["other"])
        else:
            template = t["named"]["related"]
        sentences.append(template.format(heading=p.chunk.display_heading, quote=p.quote, marker=f"[{i + 1}]"))
    return cited_answer(question, sentences, citations, (*named, *related), filters)


def related(named: Sequence[ReviewHit], others: Sequence[ReviewHit]) -> list[ReviewHit]:
    """The other reviews that share a topic with the named ones: at least one NSPCC label in common
    (a review found only because its words are near is not related; none is better than a stranger)."""
    labels = {k.lower() for h in named for k in h.best.meta.keywords}
    return [h for h in others if h.best.kind == "case_review" and labels & {k.lower() for k in h.best.meta.keywords}]


def compose(question: str, hits: Sequence[ReviewHit], filters: Filters = Filters(), named: Collection[str] = ()) -> Answer:
    """The extractive answer: an overview sentence, then one cited point per source (grouped where
    several sources say the same thing). When the question names sources (``named`` doc ids), the
    answer comes from them, with related reviews apart (``compose_named``)."""
    if not hits:
        raise AssertionError("compose needs at least one retrieved source: refuse before composing")
    if own := [h for h in hits if h.doc_id in named]:
        return compose_named(question, own, related(own, [h for h in hits if h.doc_id not in named]), filters)
    t = templates()
    query = QueryTerms.of(question)
    points = [best_point(h, query) for h in hits[:MAX_POINTS]]

    # A point that only introduces a list is quoted by its items, each cited.
    items = {i: list_items(p.chunk, p.offset, p.quote) for i, p in enumerate(points)}
    citations: list[Citation] = []
    markers: dict[int, str] = {}
    listed: dict[int, list[tuple[int, str]]] = {}
    for i, p in enumerate(points):
        if items[i]:
            listed[i] = []
            for o, text in items[i]:
                citations.append(Citation.at(len(citations) + 1, p.chunk, text, o))
                listed[i].append((len(citations), text))
        else:
            citations.append(p.cite(len(citations) + 1))
            markers[i] = f"[{len(citations)}]"
    sentences = [overview_line(citations)]
    for i, entries in listed.items():
        p = points[i]
        quoted = "; ".join(f"“{text}” [{n}]" for n, text in entries)
        sentences.append(t["list"].format(heading=p.chunk.display_heading, lead=p.quote, items=quoted))
    plain = [i for i in range(len(points)) if i in markers]
    for g in similar_groups([points[i].quote for i in plain]):
        group = [plain[j] for j in g]
        first = points[group[0]]
        if len(group) > 1:
            sentences.append(
                t["group"].format(
                    count=len(group),
                    heading=first.chunk.display_heading,
                    quote=first.quote,
                    markers="".join(markers[i] for i in group),
                )
            )
        else:
            template = t["point"].get(first.chunk.section if first.chunk.kind == "case_review" else "other", t["point"]["other"])
            sentences.append(template.format(heading=first.chunk.display_heading, quote=first.quote, marker=markers[group[0]]))
    return cited_answer(question, sentences, citations, hits, filters)


def little_answer(
    question: str,
    hits: Sequence[ReviewHit],
    filters: Filters,
    nearest_labels: Sequence[str] = (),
    *,
    how: str = "",
    about: Sequence[Chunk] = (),
    closest: Sequence[Point] = (),
) -> Answer:
    """No passage in the collection speaks to the question: say so plainly, and name the sources to
    read instead, quoting none of them (a quote would read as an answer). ``about`` and ``how``: the
    reviews that carry the question's NSPCC label when the label truly matches it (their first
    chunks), counted and named first, and how they were counted; else the nearest sources retrieval
    found. The answer's sources stay the
    ranking retrieval found, so nothing is lost to a reader who wants to look further. ``closest``:
    passages that may bear on the question though none speaks to it squarely, quoted after the
    opening line as the closest, each cited (the opening line cites them all)."""
    t = templates()["little"]
    # With passages to show, the opening says no point stands out and shows the nearest ones; with
    # none, that nothing found speaks squarely to the question.
    tier = "closest" if closest else "none"
    markers = "".join(f"[{n}]" for n in range(1, len(closest) + 1))
    if about:
        found = {h.doc_id for h in hits}
        named = sorted(about, key=lambda c: (c.doc_id not in found, -(c.meta.year or 0)))[:LITTLE_NEAREST]
        lines = [
            str(
                t["labelled"][tier].format(
                    count=len(about),
                    s="" if len(about) == 1 else "s",
                    carry="carries" if len(about) == 1 else "carry",
                    how=how,
                    sources="; ".join(c.display_heading for c in named),
                    markers=markers,
                )
            )
        ]
    else:
        lines = [str(t["text"][tier].format(markers=markers))]
        if nearest_labels:
            lines.append(str(t["labels"].format(labels=", ".join(nearest_labels))))
        if hits:
            lines.append(str(t["nearest"].format(sources="; ".join(h.best.display_heading for h in hits[:LITTLE_NEAREST]))))
    citations = [p.cite(i) for i, p in enumerate(closest, 1)]
    if citations:
        quoted = [
            str(t["closest_line"].format(heading=p.chunk.display_heading, quote=p.quote, marker=f"[{c.n}]"))
            for p, c in zip(closest, citations, strict=True)
        ]
        lines = [lines[0], *quoted]  # the quoted passages name their sources: no uncited list after them
    return cited_answer(question, lines, citations, hits[:10], filters, little=True)
