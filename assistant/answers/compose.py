"""Retrieved reviews → a grounded answer, composed without any LLM: one point per source, a named
source's own points and a few related reviews, or "little on this" with the sources to read instead.

Consumes ``ReviewHit`` records; produces an ``Answer`` whose every sentence carries [n] markers and
whose every citation holds a quote cut verbatim from a retrieved passage (assistant/answers/quotes.py).
The wording comes from prompts/answer.toml.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from assistant.answers.quotes import (
    Point,
    QueryTerms,
    best_point,
    cited_answer,
    clause_points,
    list_items,
    overview_line,
    similar_groups,
    templates,
)
from records.types import Answer, Chunk, Citation, Filters, ReviewHit

MAX_POINTS = 6
NAMED_POINTS = 4  # a named source's own points, when the question asks for no part in particular
MAX_NAMED_PART = 12  # …and when it asks for one ("what did it recommend?"): all of them, up to this
MAX_RELATED = 3  # other reviews shown after a named source's points
LITTLE_NEAREST = 3  # sources named as the nearest when none speaks to the question
LITTLE_ALL = 6  # … but a topic's reviews are named all when there are no more than this


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
        # "6 reviews carry the label … Reviews to read:" names all six, not three of them.
        most = len(about) if len(about) <= LITTLE_ALL else LITTLE_NEAREST
        named = sorted(about, key=lambda c: (c.doc_id not in found, -(c.meta.year or 0)))[:most]
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
