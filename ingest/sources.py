"""Find source files and read them into normalised text.

Consumes paths (files or folders, searched recursively); produces ``FoundFiles`` (the files to read,
and what was skipped on the way, with reasons) and ``SourceText`` records whose ``text`` is the
normalised text every offset in Casebook refers to. Normalisation is deliberately small, so a quote
still reads exactly as the source did: line endings become ``\\n``, non-breaking and other odd
spaces become plain spaces, zero-width characters and a byte-order mark are dropped, a scraped
page's Markdown link inside a line becomes the words the page showed (``ingest.web.unlink``), and
the text is put in Unicode NFC form. ``shown`` is how a file name appears in any message: escaped,
so a name cannot forge or hide a line of output.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.web import unlink
from records.errors import SourceError
from records.types import SourceProblem

COLLECTION_DIR = Path(__file__).parent / "collection"
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ODD_SPACES.sub(" ", text)
    text = _ZERO_WIDTH.sub("", text)
    return unicodedata.normalize("NFC", unlink(text))


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


def shown(name: str | Path) -> str:
    """A file name as messages print it: characters that are not printable (a newline, an escape,
    a right-to-left override, an undecodable byte) become Python escapes, as in ``repr``."""
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in str(name))


def _escape(ch: str) -> str:
    if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte the file system's name was not valid UTF-8 at
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return repr(ch)[1:-1]


@dataclass(frozen=True)
class FoundFiles:
    """What a search of the given paths found: the files to read, in a stable order; what could
    not be followed or read, each with its reason; and the hidden files and folders left out."""

    files: tuple[Path, ...]
    skipped: tuple[SourceProblem, ...] = ()
    hidden_files: int = 0
    hidden_folders: int = 0


def find_files(paths: Iterable[Path]) -> FoundFiles:
    """Each supported file under the given paths. Inside a folder: unsupported files are skipped
    silently; hidden files and folders (names starting with '.') are skipped and counted; links
    that loop or lead nowhere, links to folders (not followed, so a search cannot loop) and things
    that are not files (pipes, sockets) are skipped with their reason. A file named on the command
    line is read whatever its name; a named path that is missing or not a file is an error."""
    files: list[Path] = []
    skipped: list[SourceProblem] = []
    hidden_files = hidden_folders = 0
    for path in paths:
        if path.is_dir():
            found = _walk(path)
            files.extend(found.files)
            skipped.extend(found.skipped)
            hidden_files += found.hidden_files
            hidden_folders += found.hidden_folders
        elif path.is_file():
            files.append(path)
        elif path.is_symlink():
            raise SourceError(f"{shown(path)}: {_link_problem(path)}")
        elif os.path.lexists(path):
            raise SourceError(f"{shown(path)}: not a regular file (a pipe, socket or device); name a file or a folder")
        else:
            raise SourceError(f"{shown(path)}: no such file or folder; check the path and try again")
    return FoundFiles(tuple(files), tuple(skipped), hidden_files=hidden_files, hidden_folders=hidden_folders)


def _walk(top: Path) -> FoundFiles:
    """The supported files under ``top`` (a folder), sorted, and what was skipped there."""
    found: list[Path] = []
    skipped: list[SourceProblem] = []
    hidden_files = hidden_folders = 0
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            skipped.append(_problem(folder, f"the folder cannot be read ({exc.strerror}); check you may open it"))
            continue
        for entry in entries:
            path = Path(entry.path)
            is_hidden = entry.name.startswith(".")
            if entry.is_dir(follow_symlinks=False):
                if is_hidden:
                    hidden_folders += 1
                else:
                    folders.append(path)
                continue
            supported = path.suffix.lower() in SUPPORTED_SUFFIXES
            if is_hidden:
                hidden_files += supported
                continue
            if entry.is_symlink():
                reason = _link_problem(path)
                if reason is not None:
                    if supported or not path.suffix:  # a link named like a file we would not read is left alone
                        skipped.append(_problem(path, reason))
                    continue
            if not supported:
                continue
            if entry.is_file():
                found.append(path)
            else:
                skipped.append(_problem(path, "not a regular file (a pipe, socket or device); leave it out"))
    skipped.sort(key=lambda p: p.path)
    return FoundFiles(tuple(sorted(found)), tuple(skipped), hidden_files=hidden_files, hidden_folders=hidden_folders)


def _link_problem(path: Path) -> str | None:
    """Why a symbolic link is not followed, or None for a link to a file."""
    try:
        target = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops back on itself; fix or remove the link"
        try:
            to = shown(os.readlink(path))
        except OSError:
            to = "a path"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"a symbolic link to {to}, which does not exist; fix or remove the link"
        return f"a symbolic link to {to}, which cannot be followed ({exc.strerror}); fix or remove the link"
    if stat.S_ISDIR(target.st_mode):
        return "a link to a folder, not followed inside a folder (so a search cannot loop); name the folder itself to ingest it"
    return None


def _problem(path: Path, reason: str) -> SourceProblem:
    return SourceProblem(path=shown(path), reason=f"{shown(path)}: {reason}")


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
