"""Answers → Markdown (download, copy, chat message) and HTML (the web page's answer panel).

Everything that comes from a source or a question is escaped here, in one place: a passage holding
``<script>`` shows as text. The HTML needs no JavaScript: each [n] is a link to ``#cb-cite-n`` and
the source card with that id is shown by the CSS ``:target`` rule.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from assistant.surfaces.shapes import describe_filters
from records.types import Answer, Chunk, Citation, Theme

MARKER = re.compile(r"\[(\d+)\]")

CSS = """
.cb-panel { font-size: 0.95rem; line-height: 1.45; }
.cb-notice { border: 2px solid #b42318; background: #fef3f2; color: #7a271a; padding: 0.75rem 1rem;
             border-radius: 8px; font-weight: 600; margin-bottom: 0.75rem; }
.cb-filters { color: #475467; font-style: italic; margin-bottom: 0.5rem; }
.cb-refusal { border-left: 4px solid #98a2b3; padding: 0.5rem 1rem; background: #f9fafb; }
.cb-answer p { margin: 0.35rem 0; }
a.cb-cite { font-weight: 700; text-decoration: none; padding: 0 0.1rem; }
.cb-card { display: none; border: 1px solid #d0d5dd; border-radius: 8px; padding: 0.75rem 1rem; margin: 0.5rem 0; }
.cb-card:target { display: block; border-color: #1570ef; box-shadow: 0 0 0 2px #d1e9ff; }
.cb-card h4 { margin: 0 0 0.25rem 0; }
.cb-meta { color: #475467; font-size: 0.85rem; margin-bottom: 0.5rem; }
.cb-passage { white-space: pre-wrap; }
.cb-passage mark { background: #fef0c7; padding: 0 0.1rem; }
.cb-sources li, .cb-others li { margin: 0.2rem 0; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def card_heading(chunk: Chunk) -> str:
    if chunk.kind == "case_review":
        return chunk.heading
    return " › ".join(chunk.heading_path) or chunk.title


def _meta_line(chunk: Chunk) -> str:
    m = chunk.meta
    parts = [
        str(m.year) if m.year else "",
        m.area or "",
        chunk.kind.replace("_", " "),
        m.report_type or "",
        chunk.section if chunk.kind == "case_review" else "",
    ]
    return " · ".join(p for p in parts if p)


def _markers_to_links(text: str, known: set[int]) -> str:
    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in known:
            return m.group(0)
        return f'<a class="cb-cite" href="#cb-cite-{n}" title="Show source {n}">[{n}]</a>'

    return MARKER.sub(link, _e(text))


def _highlighted_passage(c: Citation) -> str:
    text = c.chunk.text
    start = c.quote_start - c.chunk.start
    end = start + len(c.quote)
    if not (0 <= start <= end <= len(text)) or text[start:end] != c.quote:
        return _e(text)
    return _e(text[:start]) + "<mark>" + _e(text[start:end]) + "</mark>" + _e(text[end:])


SECTION_TITLES = {"finding": "What reviews found", "recommendation": "What reviews recommended"}


@dataclass(frozen=True)
class ThemeBlock:
    """One theme as the surfaces lay it out: its headline line, the lines of its other sources, and
    a caption ("5 reviews · 2019–2023")."""

    theme: Theme
    head: str
    support: tuple[str, ...]
    caption: str


def theme_layout(answer: Answer) -> tuple[str, list[tuple[str, list[ThemeBlock]]]]:
    """A themed answer's opening line and its sections (findings, then recommendations), each a list
    of themes whose lines are taken from the answer's text by their citation markers."""
    lines = [line for line in answer.text.split("\n") if line.strip()]
    by_marker: dict[int, str] = {}
    for line in lines[1:]:
        found = MARKER.findall(line)
        if len(found) == 1:
            by_marker[int(found[0])] = line
    sections: dict[str, list[ThemeBlock]] = {}
    for t in answer.themes:
        noun = "source" if t.reviews == 1 else "sources"
        caption = f"{t.reviews} {noun}" + (f" · {t.years}" if t.years else "")
        if t.written_by != "quote":  # a model's headline cites every source; each follows on its own line
            markers = "".join(f"[{n}]" for n in t.citations)
            head = next((line for line in lines[1:] if markers in line), "")
            support = tuple(by_marker[n] for n in t.citations if n in by_marker)
        else:
            head = by_marker.get(t.citations[0], "")
            support = tuple(by_marker[n] for n in t.citations[1:] if n in by_marker)
        sections.setdefault(t.kind, []).append(ThemeBlock(t, head, support, caption))
    return lines[0] if lines else "", [(SECTION_TITLES.get(k, k), blocks) for k, blocks in sections.items()]


def answer_html(answer: Answer) -> str:
    parts = ['<div class="cb-panel">']
    if answer.safety_notice:
        parts.append(f'<div class="cb-notice" role="alert">{_e(answer.safety_notice)}</div>')
    if answer.read_as:
        parts.append(f'<div class="cb-filters">Read as: {_e(" · ".join(answer.read_as))}</div>')
    note = describe_filters(answer.filters)
    if note:
        parts.append(f'<div class="cb-filters">{_e(note)}</div>')
    if answer.standalone_question:
        parts.append(f'<div class="cb-filters">Searched as: “{_e(answer.standalone_question)}”{_e(focus_note(answer))}</div>')
    if answer.named_sources and not answer.refused:
        named = "; ".join(n.heading for n in answer.named_sources)
        parts.append(f'<div class="cb-filters">Named in the question: {_e(named)}</div>')
    if answer.inferred_labels and not answer.refused:
        parts.append(f'<div class="cb-filters">NSPCC topics read from the question: {_e(", ".join(answer.inferred_labels))}</div>')
    parts.extend(f'<div class="cb-filters">{_e(n)}</div>' for n in answer.notes)
    if answer.refused:
        parts.append(f'<div class="cb-refusal">{_e(answer.text)}</div></div>')
        return "".join(parts)
    known = {c.n for c in answer.citations}
    parts.append('<div class="cb-answer">')
    if answer.themes:
        opening, sections = theme_layout(answer)
        parts.append(f"<p>{_markers_to_links(opening, known)}</p>")
        for title, blocks in sections:
            parts.append(f'<h3 class="cb-section">{_e(title)}</h3><ol class="cb-themes">')
            for b in blocks:
                parts.append(
                    f'<li class="cb-theme"><p>{_markers_to_links(b.head, known)} <span class="cb-meta">({_e(b.caption)})</span></p>'
                )
                if b.support:
                    parts.append("<ul>" + "".join(f"<li>{_markers_to_links(x.lstrip('— '), known)}</li>" for x in b.support) + "</ul>")
                parts.append("</li>")
            parts.append("</ol>")
    else:
        parts.extend(f"<p>{_markers_to_links(line, known)}</p>" for line in answer.text.split("\n") if line.strip())
    parts.append("</div>")
    parts.append(citation_cards(answer.citations))
    cited = {c.chunk.doc_id for c in answer.citations}
    others = [h for h in answer.sources if h.doc_id not in cited]
    if others:
        parts.append('<h3>Other relevant reviews</h3><ul class="cb-others">')
        parts.extend(f"<li>{_e(card_heading(h.best))} <span class='cb-meta'>({_e(_meta_line(h.best))})</span></li>" for h in others)
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def citation_cards(citations: tuple[Citation, ...] | list[Citation]) -> str:
    """The cited-sources list and one hidden card per citation (shown by ``:target``)."""
    if not citations:
        return ""
    parts = ['<h3>Cited sources</h3><ol class="cb-sources">']
    parts.extend(f'<li><a class="cb-cite" href="#cb-cite-{c.n}">[{c.n}]</a> {_e(card_heading(c.chunk))}</li>' for c in citations)
    parts.append("</ol>")
    for c in citations:
        url = c.chunk.meta.url or ""
        safe = url.lower().startswith(("https://", "http://"))  # never a javascript: or data: link from a source
        link = f'<div><a href="{_e(url)}" target="_blank" rel="noopener">Open the source</a></div>' if safe else ""
        parts.append(
            f'<div class="cb-card" id="cb-cite-{c.n}"><h4>[{c.n}] {_e(card_heading(c.chunk))}</h4>'
            f'<div class="cb-meta">{_e(_meta_line(c.chunk))}</div>'
            f'<div class="cb-passage">{_highlighted_passage(c)}</div>{link}</div>'
        )
    return "".join(parts)


def trainer_html(title: str, sections: list[tuple[str, list[str]]], citations: tuple[Citation, ...], notice: str | None) -> str:
    """Trainer output (prompts or a briefing) with clickable [n] and source cards."""
    known = {c.n for c in citations}
    parts = ['<div class="cb-panel">', f"<h2>{_e(title)}</h2>"]
    if notice:
        parts.append(f'<div class="cb-refusal">{_e(notice)}</div>')
    for heading, lines in sections:
        if heading:
            parts.append(f"<h3>{_e(heading)}</h3>")
        parts.append('<ul class="cb-answer">' + "".join(f"<li>{_markers_to_links(x, known)}</li>" for x in lines) + "</ul>")
    parts.append(citation_cards(citations))
    parts.append("</div>")
    return "".join(parts)


def focus_note(answer: Answer) -> str:
    """ " — the new aspect: fathers; the earlier topic is context" for a follow-up."""
    return f" — the new aspect: {answer.focus}; the earlier topic is context" if answer.focus else ""


def answer_markdown(answer: Answer) -> str:
    """The answer with its citations, as Markdown a person can paste into notes or a report."""
    lines = [f"**Question:** {answer.question}", ""]
    if answer.safety_notice:
        lines += [f"> **{answer.safety_notice}**", ""]
    if answer.read_as:
        lines += [f"_Read as: {' · '.join(answer.read_as)}_", ""]
    lines += [f"_{n}_\n" for n in answer.notes]
    note = describe_filters(answer.filters)
    if note:
        lines += [f"_{note}_", ""]
    if answer.standalone_question:
        lines += [f"_Searched as: “{answer.standalone_question}”{focus_note(answer)}_", ""]
    if answer.coverage:
        lines += [f"_Counted as {answer.coverage.how}._", ""]
    if answer.themes:
        opening, sections = theme_layout(answer)
        lines.append(opening)
        for title, blocks in sections:
            lines += ["", f"### {title}", ""]
            for i, b in enumerate(blocks, 1):
                lines.append(f"{i}. {b.head} _({b.caption})_")
                lines += [f"    - {x.lstrip('— ')}" for x in b.support]
    else:
        lines += [line for line in answer.text.split("\n")]
    if answer.citations:
        lines += ["", "**Sources**", ""]
        for c in answer.citations:
            meta = _meta_line(c.chunk)
            lines.append(f"{c.n}. {card_heading(c.chunk)} ({meta}): “{c.quote}”")
    lines += ["", "_Casebook: learning from UK child safeguarding case reviews (NSPCC national case review repository)._"]
    return "\n".join(lines)
