"""Users' own files (.txt .md .html .pdf .docx) → ``SourceText`` → documents.

Consumes one path; produces the ``Parsed`` documents for it, or raises ``SourceError`` with the
reason it cannot be read (corrupt PDF, undecodable bytes, no text), so the pipeline can report it
and go on with the other files. For PDF, DOCX and HTML the "source text" that offsets and quotes
refer to is the text extracted from the file, normalised: that is what a citation is checked against.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

from ingest.bundled import Parsed, parse_page
from ingest.sources import SourceText, decode_text, normalise, sha256_bytes
from records.errors import SourceError
from records.text import slugify

MAX_FILE_BYTES = 50 * 1024 * 1024


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(f"{name}: the PDF is encrypted; save an unprotected copy and ingest that")
        return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SourceError(f"{name}: not a readable PDF ({exc.__class__.__name__}: {exc}); check the file opens in a PDF viewer") from None


def _docx_text(data: bytes, name: str) -> str:
    import zipfile

    from docx import Document as DocxDocument

    try:
        doc = DocxDocument(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(f"{name}: not a readable .docx file ({exc}); check it opens in a word processor") from None
    parts: list[str] = []
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
    return "\n\n".join(parts)


def _html_text(raw: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "form", "svg", "iframe"]):
        tag.decompose()
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.insert_before("\n\n" + "#" * level + " ")
            h.insert_after("\n\n")
    for li in soup.find_all("li"):
        li.insert_before("\n- ")
    for block in soup.find_all(["p", "div", "br", "tr", "section", "article"]):
        block.insert_after("\n\n")
    return soup.get_text()


def read_user_file(path: Path) -> SourceText:
    name = str(path)
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
        text = _html_text(decode_text(data, name))
    elif suffix in (".txt", ".md", ".markdown"):
        text = decode_text(data, name)
    else:
        raise SourceError(f"{name}: expected one of .txt .md .html .pdf .docx, got {suffix or 'no extension'}")
    text = normalise(text)
    if not text.strip():
        raise SourceError(f"{name}: the file has no text" + (" (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""))
    return SourceText(name=name, path=path, text=text, sha256=sha256_bytes(data))


def parse_user_file(src: SourceText) -> Parsed:
    """A user's file is one document of kind "document". Scraped pages (.html) are judged like the
    bundled pages and may be excluded; files a user wrote or saved themselves are indexed as given."""
    title = src.path.stem.replace("_", " ").replace("-", " ").strip() or src.path.name
    judged = src.path.suffix.lower() in (".html", ".htm")
    parsed = parse_page(src, 0, len(src.text), title=title, kind="document", judged=judged)
    # User files are identified by their path, so that re-ingesting a changed file replaces it.
    resolved = str(src.path.resolve())
    doc_id = f"file-{slugify(src.path.stem)[:60]}-{hashlib.sha1(resolved.encode()).hexdigest()[:10]}"
    parsed.documents = [replace(d, doc_id=doc_id) for d in parsed.documents]
    return parsed
