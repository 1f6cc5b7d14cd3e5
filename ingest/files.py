"""Users' own files (.txt .md .html .pdf .docx) → ``SourceText`` → documents.

Consumes one path; produces the ``Parsed`` documents for it, or raises ``SourceError`` with the
reason it cannot be read (corrupt PDF, undecodable bytes, no text, over a size limit), so the
pipeline can report it and go on with the other files. ``load_user_file`` raises nothing else: an
exception from a parser on a broken or hostile file becomes that file's ``SourceError`` too. For
PDF, DOCX and HTML the "source text" that offsets and quotes refer to is the text extracted from the
file, normalised: that is what a citation is checked against.

Every limit below is checked before the expensive step it protects (parsing a zip's XML, reading a
PDF's pages, parsing HTML), so a zip bomb or a runaway file costs seconds, not the run.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

from ingest.bundled import Parsed, parse_page
from ingest.sources import SourceText, decode_text, normalise, sha256_bytes, shown
from records.errors import SourceError
from records.text import slugify

# Limits no real case review or briefing reaches. The longest published reviews run to a few
# hundred pages, at about 3,000 characters a page: under 1.5 million characters of text. Each limit
# leaves at least twice that room; past them one file costs tens of minutes of chunking and
# embedding, or gigabytes of memory, and a hostile one (a zip bomb) far more.
MAX_FILE_BYTES = 50 * 1024 * 1024
# Extracted text, every file type: about 1,000 pages, some 4,000 chunks, which take minutes to embed
# on a CPU (2,500 chunks took five on two shared cores).
MAX_TEXT_CHARS = 3_000_000
# A PDF's pages, counted before any is read: every page costs time to extract, even an empty one.
MAX_PDF_PAGES = 2_000
# A .docx is a zip, so its sizes are read from the zip's directory before any XML is parsed: its XML
# parts (document, headers, notes, styles) as they unzip, where a million characters in formatted
# runs take 2-3 MiB (more from Word, which marks up every edit); and everything in it, pictures
# included (they barely compress, so this is about the file's own size plus its XML).
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024
MAX_DOCX_UNZIPPED_BYTES = 256 * 1024 * 1024
# HTML markup before parsing (about a second per million characters): a saved page, scripts and
# styles included, is rarely over a few million.
MAX_HTML_CHARS = 10_000_000


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MiB"


def _too_long(name: str, found: str) -> SourceError:
    return SourceError(
        f"{name}: {found}, over the limit of {MAX_TEXT_CHARS:,} characters for one file (about 1,000 pages; "
        "the longest case reviews have a few hundred); split it into smaller files and ingest those"
    )


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(f"{name}: the PDF is encrypted; save an unprotected copy and ingest that")
        pages = len(reader.pages)
        if pages > MAX_PDF_PAGES:
            raise SourceError(
                f"{name}: {pages:,} pages, over the limit of {MAX_PDF_PAGES:,} pages for one file "
                "(the longest case reviews have a few hundred); split it into smaller PDFs and ingest those"
            )
        parts: list[str] = []
        size = 0
        for i, page in enumerate(reader.pages, 1):
            parts.append((page.extract_text() or "").strip())
            size += len(parts[-1]) + 2
            if size > MAX_TEXT_CHARS:
                raise _too_long(name, f"more than {MAX_TEXT_CHARS:,} characters of text by page {i:,} of {pages:,}")
        return "\n\n".join(parts)
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SourceError(
            f"{name}: not a readable PDF ({exc.__class__.__name__}: {_brief(exc)}); check the file opens in a PDF viewer"
        ) from None


def _check_docx_sizes(data: bytes, name: str) -> None:
    """The sizes a .docx's parts will unzip to, from the zip's own directory. ``zipfile`` never
    inflates a part past the size the directory gives, so this bounds what parsing will see."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SourceError(f"{name}: not a readable .docx file ({_brief(exc)}); check it opens in a word processor") from None
    xml = sum(p.file_size for p in parts if p.filename.lower().endswith((".xml", ".rels")))
    if xml > MAX_DOCX_XML_BYTES:
        raise SourceError(
            f"{name}: its text and layout (the XML inside the .docx) unzip to {_mib(xml)}, over the limit of "
            f"{_mib(MAX_DOCX_XML_BYTES)} for one file (a 300-page report needs a few MiB); "
            "split it into smaller documents and ingest those"
        )
    total = sum(p.file_size for p in parts)
    if total > MAX_DOCX_UNZIPPED_BYTES:
        raise SourceError(
            f"{name}: its contents unzip to {_mib(total)}, over the limit of {_mib(MAX_DOCX_UNZIPPED_BYTES)} for one file; "
            "save a copy without the large pictures or attachments, or split it, and ingest that"
        )


def _docx_text(data: bytes, name: str) -> str:
    import zipfile

    from docx import Document as DocxDocument
    from lxml.etree import XMLSyntaxError

    _check_docx_sizes(data, name)
    try:
        doc = DocxDocument(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise SourceError(f"{name}: not a readable .docx file ({_brief(exc)}); check it opens in a word processor") from None
    parts: list[str] = []
    size = 0
    for para in doc.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style.startswith("Heading"):
            level = style.rsplit(" ", 1)[-1]
            text = "#" * (int(level) + 1 if level.isdigit() else 2) + " " + text
        elif style.startswith("List"):
            text = "- " + text
        parts.append(text)
        size += len(text) + 2
        if size > MAX_TEXT_CHARS:
            raise _too_long(name, f"more than {MAX_TEXT_CHARS:,} characters of text")
    return "\n\n".join(parts)


_DROPPED_TAGS = frozenset({"script", "style", "noscript", "nav", "header", "footer", "form", "svg", "iframe"})
_BLOCK_TAGS = frozenset({"p", "div", "br", "tr", "section", "article"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}


def _html_text(raw: str, name: str = "") -> str:
    """The page's text with Markdown-style headings and list items and blank lines between blocks.
    One walk of the tree (inserting separators into the tree instead costs time quadratic in the
    number of sibling tags), with an explicit stack, so deep nesting cannot exhaust recursion."""
    from bs4 import BeautifulSoup, Tag

    if len(raw) > MAX_HTML_CHARS:
        raise SourceError(
            f"{name}: {len(raw):,} characters of HTML, over the limit of {MAX_HTML_CHARS:,} for one page; "
            "save the page as PDF or text, or split it, and ingest that"
        )
    soup = BeautifulSoup(raw, "html.parser")
    wanted = tuple(soup.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES)
    out: list[str] = []
    stack: list[object] = [soup]
    while stack:
        node = stack.pop()
        if type(node) is str:  # a separator pushed when its tag was opened
            out.append(node)
        elif isinstance(node, Tag):
            if node.name in _DROPPED_TAGS:
                continue
            level = _HEADINGS.get(node.name)
            if level is not None:
                out.append("\n\n" + "#" * level + " ")
                stack.append("\n\n")
            elif node.name == "li":
                out.append("\n- ")
            elif node.name in _BLOCK_TAGS:
                stack.append("\n\n")
            stack.extend(reversed(node.contents))
        elif type(node) in wanted:
            out.append(str(node))
    return "".join(out)


def _brief(exc: BaseException) -> str:
    """An exception's message for a one-line report: escaped and cut short."""
    text = shown(str(exc))
    return text if len(text) <= 200 else text[:200] + "…"


def read_user_file(path: Path) -> SourceText:
    name = shown(path)
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise SourceError(f"{name}: the file name is not valid UTF-8; rename the file and ingest it again") from None
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(f"{name}: {size // (1024 * 1024)} MiB is over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit; split it")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{name}: cannot be read ({exc.strerror}); check it exists and you may read it") from None
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = _pdf_text(data, name)
    elif suffix == ".docx":
        text = _docx_text(data, name)
    elif suffix in (".html", ".htm"):
        text = _html_text(decode_text(data, name), name)
    elif suffix in (".txt", ".md", ".markdown"):
        text = decode_text(data, name)
    else:
        raise SourceError(f"{name}: expected one of .txt .md .html .pdf .docx, got {shown(suffix) or 'no extension'}")
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(name, f"{len(text):,} characters of text")
    text = normalise(text)
    if not text.strip():
        raise SourceError(f"{name}: the file has no text" + (" (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""))
    return SourceText(name=name, path=path, text=text, sha256=sha256_bytes(data))


def load_user_file(path: Path) -> Parsed:
    """One user file read and parsed. Raises only ``SourceError``: whatever a parser raises on a
    broken or hostile file (malformed XML, a recursion or memory limit) skips that file, not the run."""
    try:
        return parse_user_file(read_user_file(path))
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(
            f"{shown(path)}: could not be read ({exc.__class__.__name__}: {_brief(exc)}); "
            "check it opens in the program that made it, or leave it out"
        ) from exc


def parse_user_file(src: SourceText) -> Parsed:
    """A user's file is one document of kind "document". Scraped pages (.html) are judged like the
    bundled pages and may be excluded; files a user wrote or saved themselves are indexed as given."""
    title = shown(src.path.stem).replace("_", " ").replace("-", " ").strip() or shown(src.path.name)
    judged = src.path.suffix.lower() in (".html", ".htm")
    parsed = parse_page(src, 0, len(src.text), title=title, kind="document", judged=judged)
    # User files are identified by their path, so that re-ingesting a changed file replaces it.
    resolved = str(src.path.resolve())
    doc_id = f"file-{slugify(src.path.stem)[:60]}-{hashlib.sha1(resolved.encode()).hexdigest()[:10]}"
    parsed.documents = [replace(d, doc_id=doc_id) for d in parsed.documents]
    return parsed
