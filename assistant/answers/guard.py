"""The grounding guard: a model's draft answer → an ``Answer`` Casebook can stand behind.

Consumes the model's text and the numbered sources it was shown; produces the kept sentences, each
with verified citations and verbatim quotes, or ``None`` when too little survives (the caller then
falls back to the extractive answer and says so). Steps, per sentence:

1. parse its [n] markers and drop those that point to no source;
2. a sentence with no valid marker is offered the source that supports it best (if any does);
3. each cited source gets a quote: the clause of its passage that best matches the sentence, verbatim;
4. the support judge (assistant/answers/support.py) decides whether the cited passages support the sentence;
   unsupported sentences are removed, and so are citations the sentence does not need.

Markers are renumbered in order of first use, so the answer's [n] match its citation list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answers.quotes import QueryTerms, clauses
from assistant.answers.support import Judge
from records.text import stems
from records.types import Chunk, Citation

_MARKER = re.compile(r"\s*\[(\d+)\]")
MIN_KEPT_SENTENCES = 1
MIN_KEPT_SHARE = 0.5


@dataclass(frozen=True)
class GuardReport:
    kept: int
    removed: int
    dropped_markers: int
    attached: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Guarded:
    text: str
    citations: tuple[Citation, ...]
    report: GuardReport


def split_sentences(text: str) -> list[str]:
    """Sentences with their trailing markers kept attached."""
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"[.!?](?:\s*\[\d+\])*(?=\s|$)|\n+", text):
        piece = text[pos : m.end()].strip()
        if piece:
            out.append(piece)
        pos = m.end()
    tail = text[pos:].strip()
    if tail:
        out.append(tail)
    return out


def _best_quote(sentence: str, chunk: Chunk) -> tuple[int, str]:
    terms = QueryTerms.of(sentence)
    options = clauses(chunk) or [(0, chunk.text.strip())]
    return max(options, key=lambda oc: terms.score(oc[1], chunk.section))


def _evidence(chunk: Chunk) -> str:
    return f"{chunk.heading}: {chunk.text}"


# Words a restatement may add to its source without adding a fact.
FRAMING = frozenset(
    stems(
        "review reviews found finding findings noted showed highlighted identified practitioners professionals need needs "
        "important importance should must recommended recommends learning lesson lessons one another also"
    )
)
MAX_NEW_WORDS = 2


def invents(sentence: str, source: str, question: str) -> bool:
    """A restated finding that brings in more than ``MAX_NEW_WORDS`` content words found neither in
    its source nor in the question nor among plain framing words ("one review found that …"): the
    lexical judge would pass "the company's product review found …" because most words match."""
    return len(stems(sentence) - stems(source) - stems(question) - FRAMING) > MAX_NEW_WORDS


def guard(draft: str, sources: Sequence[Chunk], judge: Judge) -> Guarded | None:
    """``sources[i]`` is the passage the model saw as [i + 1]."""
    by_n = {i + 1: c for i, c in enumerate(sources)}
    reasons: list[str] = []
    dropped = attached = removed = 0
    kept: list[tuple[str, list[int]]] = []
    sentences = [s for s in split_sentences(draft) if _MARKER.sub("", s).strip()]
    for sentence in sentences:
        bare = _MARKER.sub("", sentence).strip()
        marks = [int(m) for m in _MARKER.findall(sentence)]
        valid = [n for n in dict.fromkeys(marks) if n in by_n]
        dropped += len(marks) - len([n for n in marks if n in by_n])
        if not valid:
            scores = judge.scores([(bare, _evidence(c)) for c in sources])
            best = max(range(len(sources)), key=lambda i: scores[i]) if sources else None
            if best is None or not judge.supports(bare, _evidence(sources[best])):
                removed += 1
                reasons.append(f"no source supports: {bare[:70]!r}")
                continue
            valid = [best + 1]
            attached += 1
        # Together first, then each citation alone: one batch for the judge.
        pairs = [(bare, "\n".join(_evidence(by_n[n]) for n in valid)), *((bare, _evidence(by_n[n])) for n in valid)]
        together, *each = judge.verdicts(pairs)
        if not together:
            removed += 1
            reasons.append(f"its sources do not support: {bare[:70]!r}")
            continue
        needed = [n for n, ok in zip(valid, each, strict=True) if ok] or valid
        kept.append((bare, needed))
    if len(kept) < MIN_KEPT_SENTENCES or (sentences and len(kept) / len(sentences) < MIN_KEPT_SHARE):
        return None

    numbering: dict[int, int] = {}
    citations: list[Citation] = []
    lines = []
    for bare, needed in kept:
        new = []
        for n in needed:
            if n not in numbering:
                numbering[n] = len(numbering) + 1
                chunk = by_n[n]
                offset, quote = _best_quote(bare, chunk)
                citations.append(Citation.at(numbering[n], chunk, quote, offset))
            new.append(numbering[n])
        body = bare.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        body = body.rstrip(".!?")
        lines.append(f"{body} {''.join(f'[{n}]' for n in new)}{end}")
    report = GuardReport(kept=len(kept), removed=removed, dropped_markers=dropped, attached=attached, reasons=tuple(reasons))
    return Guarded(text="\n".join(lines), citations=tuple(citations), report=report)
