"""Find source files and read them into normalised text.

Consumes paths (files or folders, searched recursively); produces ``SourceText`` records whose
``text`` is the normalised text every offset in Casebook refers to. Normalisation is deliberately
small, so a quote still reads exactly as the source did: line endings become ``\\n``, non-breaking
and other odd spaces become plain spaces, zero-width characters and a byte-order mark are dropped,
and the text is put in Unicode NFC form.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from records.errors import SourceError

COLLECTION_DIR = Path(__file__).parent / "collection"
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ODD_SPACES.sub(" ", text)
    text = _ZERO_WIDTH.sub("", text)
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class SourceText:
    """One readable file: its display name, normalised text, and a hash of its raw bytes."""

    name: str
    path: Path
    text: str
    sha256: str


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), or UTF-16 when it says so; anything else is refused rather
    than guessed, so that a quote never carries mis-decoded characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name}: expected UTF-8 text, found undecodable bytes at offset {exc.start}; re-save the file as UTF-8 and ingest it again"
        ) from None


def iter_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Each supported file under the given paths, in a stable order. Unsupported files inside a
    folder are skipped silently; a named file that is unsupported or missing is an error."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in SUPPORTED_SUFFIXES and not child.name.startswith("."):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise SourceError(f"{path}: no such file or folder; check the path and try again")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest() -> list[dict[str, Any]]:
    """The bundled collection's manifest (ingest/collection/manifest.toml)."""
    with open(COLLECTION_DIR / "manifest.toml", "rb") as fh:
        files: list[dict[str, Any]] = tomllib.load(fh)["file"]
    return files


def read_collection_file(name: str) -> SourceText:
    path = COLLECTION_DIR / name
    data = path.read_bytes()
    return SourceText(name=name, path=path, text=normalise(decode_text(data, name)), sha256=sha256_bytes(data))
