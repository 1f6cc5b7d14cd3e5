"""The bundled collection (ingest/collection/) → documents, exclusions.

Consumes the manifest and the vendored files; produces one ``Document`` per case review, per
briefing and per kept page, and one ``Exclusion`` per page that is not about child safeguarding in
the UK. Also used by ``parse_page`` for users' scraped ``.html`` files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ingest import nspcc
from ingest.sources import SourceText, load_manifest, read_collection_file
from ingest.web import clean_sections, judge
from records.errors import SourceError
from records.text import slugify
from records.types import DocMeta, Document, Exclusion, Review


@dataclass
class Parsed:
    documents: list[Document] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.documents.extend(other.documents)
        self.reviews.extend(other.reviews)
        self.exclusions.extend(other.exclusions)


def _page_id(source_name: str, title: str) -> str:
    stem = source_name.rsplit(".", 1)[0]
    return f"page-{slugify(stem)[:40]}-{slugify(title)[:60]}".rstrip("-")


def parse_page(
    src: SourceText,
    start: int,
    end: int,
    *,
    title: str,
    kind: str = "document",
    publisher: str | None = None,
    url: str | None = None,
    judged: bool = True,
    outline: tuple[str, ...] = (),
    skip_sections: tuple[str, ...] = (),
) -> Parsed:
    """A page (or briefing): cleaned into sections; excluded with its reason when it does not belong."""
    cleaned = clean_sections(src.text, start, end, title, outline=outline, skip_sections=skip_sections)
    out = Parsed()
    if judged:
        verdict = judge(cleaned.kept_text)
        if not verdict.include:
            out.exclusions.append(Exclusion(source_file=src.name, title=title, reason=verdict.reason))
            return out
    if not cleaned.sections:
        out.exclusions.append(Exclusion(source_file=src.name, title=title, reason="no text left after cleaning"))
        return out
    first, last = cleaned.sections[0], cleaned.sections[-1]
    doc_title = first.heading_path[0] if first.heading_path else title
    out.documents.append(
        Document(
            doc_id=_page_id(src.name, title),
            kind=kind,
            title=doc_title,
            heading=doc_title,
            source_file=src.name,
            source_text=src.text,
            start=first.start,
            end=last.end,
            sections=cleaned.sections,
            meta=DocMeta(publisher=publisher, url=url, nation=_nation_of_page(cleaned.kept_text)),
        )
    )
    return out


def _nation_of_page(text: str) -> str:
    counts = {
        "Wales": len(re.findall(r"\b(?:Wales|Welsh)\b", text)),
        "Scotland": len(re.findall(r"\b(?:Scotland|Scottish)\b", text)),
        "Northern Ireland": len(re.findall(r"\bNorthern Ireland\b", text)),
        "England": len(re.findall(r"\b(?:England|English)\b", text)),
    }
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "unknown"


def _parse_file(entry: dict[str, Any]) -> Parsed:
    src = read_collection_file(entry["name"])
    parser = entry["parser"]
    publisher = entry.get("publisher")
    out = Parsed()
    if parser == "listing":
        tail_from = entry.get("tail_from")
        out.reviews.extend(nspcc.parse_listing(src.text, src.name, tail_from))
        tail = nspcc.listing_end(src.text, tail_from)
        if tail < len(src.text):
            out.extend(_parse_tail(src, tail, entry.get("page", [])))
    elif parser in ("page", "briefing"):
        out.extend(
            parse_page(
                src,
                0,
                len(src.text),
                title=entry["title"],
                kind=entry.get("kind", "document"),
                publisher=publisher,
                judged=parser == "page",
                outline=tuple(entry.get("outline", ())),
                skip_sections=tuple(entry.get("skip_sections", ())),
            )
        )
    else:
        raise SourceError(f"manifest: file {entry['name']}: unknown parser {parser!r}; expected one of the parsers ingest/bundled.py names")
    return out


def _parse_tail(src: SourceText, tail: int, pages: list[dict[str, Any]]) -> Parsed:
    """The pages captured after a listing, each from its ``starts_with`` line to the next page's."""
    starts: list[tuple[int, dict[str, Any]]] = []
    pos = tail
    for page in pages:
        m = re.compile(rf"^[ \t]*{re.escape(page['starts_with'])}[ \t]*$", re.MULTILINE).search(src.text, pos)
        if not m:
            raise SourceError(f"manifest: {src.name}: no line {page['starts_with']!r} after offset {pos}; fix manifest.toml")
        starts.append((m.start(), page))
        pos = m.end()
    out = Parsed()
    for i, (start, page) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(src.text)
        out.extend(parse_page(src, start, end, title=page["title"], kind=page.get("kind", "document")))
    return out


def parse_collection() -> Parsed:
    """Every document of the bundled collection, reviews with their stable ids."""
    out = Parsed()
    texts: dict[str, str] = {}
    publishers: dict[str, str | None] = {}
    for entry in load_manifest():
        parsed = _parse_file(entry)
        out.extend(parsed)
        texts[entry["name"]] = read_collection_file(entry["name"]).text
        publishers[entry["name"]] = entry.get("publisher")
    out.reviews = nspcc.assign_ids(out.reviews)
    review_docs = [nspcc.review_document(r, texts[r.source_file], publishers[r.source_file]) for r in out.reviews]
    out.documents = review_docs + out.documents
    return out
