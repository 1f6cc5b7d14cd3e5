"""Counting and listing questions ("how many reviews published in 2023 involved a teenager who died?",
"which reviews since 2021 were about neglect in Norfolk?"), answered exactly from the metadata.

Consumes the matching documents (their first chunks, already counted by the caller: every document
the question's filters allow, narrowed to those about its topic when it has one) and how they were
counted; produces an ``Answer`` that opens with the number and lists the documents (year, area,
title) each with a one-line quote from its summary, cited. The number is exact; only the list is cut
at ``MAX_LISTED``, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assistant.answers.quotes import cited_answer, clauses, templates, trim_quote
from records.types import Answer, Chunk, Citation, Filters

MAX_LISTED = 25
LINE_QUOTE_CHARS = 200


def _summary_line(first: Chunk, chunks: Sequence[Chunk]) -> tuple[Chunk, int, str]:
    """The first clause of a document's summary (what happened), else of its first passage."""
    chunk = next((c for c in chunks if c.section == "summary"), first)
    found = clauses(chunk)
    if found:
        offset, clause = found[0]
    else:
        clause = chunk.text.strip()
        offset = chunk.text.find(clause)
    return chunk, offset, trim_quote(clause, LINE_QUOTE_CHARS)


def _listing(listed: Sequence[Chunk], chunks_of: dict[str, list[Chunk]]) -> tuple[list[str], list[Citation]]:
    """One cited line per document: its heading and the first clause of its summary."""
    line = templates()["count"]["line"]
    citations: list[Citation] = []
    lines: list[str] = []
    for first in listed:
        chunk, offset, quote = _summary_line(first, chunks_of.get(first.doc_id, [first]))
        citations.append(Citation.at(len(citations) + 1, chunk, quote, offset))
        lines.append(line.format(heading=first.display_heading, quote=quote, marker=f"[{len(citations)}]"))
    return lines, citations


def candidates_answer(question: str, candidates: Sequence[Chunk], chunks_of: dict[str, list[Chunk]], name: str, filters: Filters) -> Answer:
    """A name several reviews share ("Child X") with nothing to choose between them: list them."""
    lines, citations = _listing(candidates, chunks_of)
    opening = templates()["count"]["candidates"].format(count=len(candidates), name=name, markers="".join(f"[{c.n}]" for c in citations))
    return cited_answer(question, [opening, *lines], citations, (), filters)


def count_answer(
    question: str,
    matching: Sequence[Chunk],
    chunks_of: dict[str, list[Chunk]],
    how: str,
    read_as: str,
    filters: Filters,
) -> Answer:
    t = templates()["count"]
    listed = list(matching)[:MAX_LISTED]
    lines, citations = _listing(listed, chunks_of)
    count = len(matching)
    kind = "review" if all(c.kind == "case_review" for c in matching) else "source"
    noun = kind if count == 1 else kind + "s"
    opening = (
        t["opening"]
        .format(
            count=count,
            noun=noun,
            verb="matches" if count == 1 else "match",
            read_as=read_as,
            how=how,
            markers="".join(f"[{c.n}]" for c in citations),
        )
        .replace(" .", ".")
    )
    if count > len(listed):
        opening += " " + t["more"].format(shown=len(listed), rest=count - len(listed))
    if not count:
        opening = t["none"].format(read_as=read_as, how=how)
    answer = cited_answer(question, [opening, *lines], citations, (), filters)
    return replace(answer, refused=not count)  # nothing to cite: shown as a notice, like a refusal
