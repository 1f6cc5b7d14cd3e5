"""Hostile and broken user files at ingest: each is skipped with its reason, the rest still go in.

Every hostile file is built here, in ``tmp_path``, at test time: a .docx zip bomb (a real python-docx
skeleton whose document.xml is streamed in, compressed ~500:1), a .docx with a malformed or huge
text node, files over the size limits, symbolic links that loop or lead nowhere, hidden files, and
names holding a newline or bytes that are not UTF-8. Ingest runs on real Chroma with the fake
embedder; the CLI tests use folders in which nothing is good, so no model is loaded.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from assistant.surfaces import cli
from ingest.files import MAX_DOCX_XML_BYTES, MAX_HTML_CHARS, MAX_PDF_PAGES, MAX_TEXT_CHARS, _html_text, load_user_file
from ingest.sources import shown
from records.errors import SourceError
from records.settings import Settings
from tests.conftest import FakeEmbedder
from tests.test_pipeline import assert_consistent
from vectorstore.indexer import run_ingest
from vectorstore.store import open_store

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
GOOD_TEXT = "Professional curiosity means asking who else lives in the home."


def docx_skeleton() -> bytes:
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading("Team briefing", level=1)
    doc.add_paragraph(GOOD_TEXT)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_docx(path: Path, document_xml: Iterable[bytes] | None = None) -> Path:
    """A valid .docx, or one whose word/document.xml is replaced by the given pieces, streamed into
    the zip so that even a bomb never sits in memory whole."""
    skeleton = zipfile.ZipFile(io.BytesIO(docx_skeleton()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in skeleton.infolist():
            if info.filename == "word/document.xml" and document_xml is not None:
                with out.open(info.filename, "w", force_zip64=True) as fh:
                    for piece in document_xml:
                        fh.write(piece)
            else:
                out.writestr(info.filename, skeleton.read(info.filename))
    return path


def body(paragraphs: Iterable[bytes]) -> Iterable[bytes]:
    yield f"<w:document {W}><w:body>".encode()
    yield from paragraphs
    yield b"</w:body></w:document>"


def problems(report: object) -> dict[str, str]:
    return {Path(e.path).name: e.reason for e in report.errors}  # type: ignore[attr-defined]


# -- 1. bounded size and work -------------------------------------------------------------------


def test_a_docx_zip_bomb_is_skipped_from_its_zip_directory(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    para = b"<w:p><w:r><w:t>" + b"neglect " * 1000 + b"</w:t></w:r></w:p>"
    n = 3 * MAX_DOCX_XML_BYTES // len(para)  # about 192 MiB of XML, 200 million characters of text
    bomb = write_docx(folder / "bomb.docx", body(para for _ in range(n)))
    write_docx(folder / "good.docx")
    assert bomb.stat().st_size < MAX_DOCX_XML_BYTES // 100, "a bomb: small on disk, huge unzipped"
    started = time.perf_counter()
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    reason = problems(report)["bomb.docx"]
    assert re.fullmatch(
        re.escape(f"{bomb}: its text and layout (the XML inside the .docx) unzip to ") + r"19\d\.\d MiB, over the limit of 64\.0 MiB "
        r"for one file \(a 300-page report needs a few MiB\); split it into smaller documents and ingest those",
        reason,
    ), reason
    assert report.documents == 1 and GOOD_TEXT in "\n".join(c.text for c in open_store(settings).all_chunks())
    assert time.perf_counter() - started < 60, "the bomb is refused before its XML is parsed"


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_text_over_the_character_limit_is_skipped_with_the_size_and_the_limit(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path, suffix: str
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    big = folder / f"everything{suffix}"
    line = "Neglect was missed because home visits were cancelled.\n\n"
    big.write_text((line * (MAX_TEXT_CHARS // len(line) + 1))[: MAX_TEXT_CHARS + 1])
    (folder / "notes.txt").write_text("Supervision notes\n\nInvolve fathers in pre-birth assessments.\n")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert problems(report)[big.name] == (
        f"{big}: 3,000,001 characters of text, over the limit of 3,000,000 characters for one file "
        "(about 1,000 pages; the longest case reviews have a few hundred); split it into smaller files and ingest those"
    )
    assert report.documents == 1 and report.written == 1


def test_html_over_the_markup_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>" + "x" * MAX_HTML_CHARS + "</p>")
    with pytest.raises(SourceError) as info:
        load_user_file(page)
    assert str(info.value) == (
        f"{page}: 10,000,007 characters of HTML, over the limit of 10,000,000 for one page; "
        "save the page as PDF or text, or split it, and ingest that"
    )


def test_docx_text_over_the_character_limit_is_skipped(tmp_path: Path) -> None:
    para = b"<w:p><w:r><w:t>" + b"neglect " * 1000 + b"</w:t></w:r></w:p>"
    n = MAX_TEXT_CHARS // 8000 + 1
    path = write_docx(tmp_path / "long.docx", body(para for _ in range(n)))
    with pytest.raises(SourceError) as info:
        load_user_file(path)
    assert f"{path}: more than 3,000,000 characters of text, over the limit" in str(info.value)


def test_a_pdf_over_the_page_limit_is_refused_before_its_pages_are_read(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(MAX_PDF_PAGES + 1):
        writer.add_blank_page(width=200, height=200)
    path = tmp_path / "long.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    with pytest.raises(SourceError) as info:
        load_user_file(path)
    assert str(info.value) == (
        f"{path}: 2,001 pages, over the limit of 2,000 pages for one file "
        "(the longest case reviews have a few hundred); split it into smaller PDFs and ingest those"
    )


def test_html_text_keeps_its_shape() -> None:
    """The one-walk extraction gives exactly what inserting separators into the tree gave (checked
    against that implementation on this page and 3,000 random ones when it was replaced)."""
    raw = (
        "<html><body><nav><a>Home</a></nav><h1>Safeguarding</h1><p>Report <b>concerns</b>.</p><!-- note -->"
        "<ul><li>share information</li><li>record<br>decisions</li></ul><script>alert(1)</script>"
        "<table><tr><td>a</td><td>b</td></tr></table></body></html>"
    )
    assert _html_text(raw) == ("\n\n# Safeguarding\n\nReport concerns.\n\n\n- share information\n- record\n\ndecisionsab\n\n")


def test_long_runs_show_progress_in_a_log(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stderr is not a terminal here (as in a log): a large phase says so when it starts."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(100):
        (folder / f"note-{i:03}.md").write_text(f"# Note {i}\n\n" + f"Supervision note {i} about neglect and home visits. " * 200)
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=True)
    err = capsys.readouterr().err
    assert report.written == 100 and report.chunks >= 500
    assert "casebook: reading 100 files…\n" in err
    assert "casebook: chunking 100 documents…\n" in err
    assert f"casebook: embedding {report.chunks:,} chunks…\n" in err
    assert fake_embedder.calls >= report.chunks // 256, "a long group is embedded in slices, so progress moves"
    run_ingest(settings, [folder / "note-000.md"], embedder=fake_embedder, progress=True)
    assert capsys.readouterr().err == "", "a short run prints nothing"


# -- 2. one bad file never stops the run, nor harms what is indexed -----------------------------


def test_a_malformed_docx_is_skipped_and_the_good_files_beside_it_go_in(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    write_docx(folder / "a-malformed.docx", [b"<w:document><unclosed>"])
    write_docx(folder / "b-huge-text-node.docx", body([b"<w:p><w:r><w:t>", b"x" * 11_000_000, b"</w:t></w:r></w:p>"]))
    write_docx(folder / "c-no-body.docx", [f"<w:document {W}/>".encode()])
    write_docx(folder / "good.docx")
    (folder / "notes.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    found = problems(report)
    assert set(found) == {"a-malformed.docx", "b-huge-text-node.docx", "c-no-body.docx"}
    assert found["a-malformed.docx"].startswith(f"{folder / 'a-malformed.docx'}: not a readable .docx file (Namespace prefix w")
    assert found["b-huge-text-node.docx"].startswith(f"{folder / 'b-huge-text-node.docx'}: not a readable .docx file (")
    assert found["c-no-body.docx"] == (
        f"{folder / 'c-no-body.docx'}: could not be read (AttributeError: 'NoneType' object has no attribute 'p_lst'); "
        "check it opens in the program that made it, or leave it out"
    )
    assert report.documents == 2
    text = "\n".join(c.text for c in open_store(settings).all_chunks())
    assert GOOD_TEXT in text and "home visits were cancelled" in text
    assert_consistent(settings)


def test_a_file_that_turns_bad_keeps_its_indexed_version(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    write_docx(folder / "briefing.docx")
    (folder / "notes.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    before = {c.chunk_id: c.text for c in open_store(settings).all_chunks()}
    write_docx(folder / "briefing.docx", [b"<w:document><unclosed>"])
    (folder / "notes.txt").write_text("x" * (MAX_TEXT_CHARS + 1))
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert set(problems(report)) == {"briefing.docx", "notes.txt"}
    assert (report.written, report.removed) == (0, 0)
    assert {c.chunk_id: c.text for c in open_store(settings).all_chunks()} == before
    assert_consistent(settings)


# -- 3. links, pipes and hidden files are reported, not skipped silently -------------------------


def test_links_pipes_and_hidden_files_are_each_reported(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    (folder / "sub" / "linked-to.md").write_text("# Local learning\n\nInvolve fathers in pre-birth assessments.\n")
    (folder / "file-link.md").symlink_to(folder / "sub" / "linked-to.md")
    (folder / "dangling.pdf").symlink_to(tmp_path / "gone.pdf")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "up").symlink_to(folder)
    (folder / "photo.jpg").symlink_to(tmp_path / "gone.jpg")  # not a file we read: left alone, as before
    os.mkfifo(folder / "pipe.txt")
    (folder / ".hidden.txt").write_text("hidden notes")
    (folder / "._briefing.docx").write_bytes(b"\x00\x05\x16\x07")
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / ".git").mkdir()
    (folder / ".git" / "notes.md").write_text("not for the index")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert problems(report) == {
        "dangling.pdf": f"{folder / 'dangling.pdf'}: a symbolic link to {tmp_path / 'gone.pdf'}, which does not exist; fix or remove the link",
        "loop.txt": f"{folder / 'loop.txt'}: a symbolic link that loops back on itself; fix or remove the link",
        "up": f"{folder / 'up'}: a link to a folder, not followed inside a folder (so a search cannot loop); name the folder itself to ingest it",
        "pipe.txt": f"{folder / 'pipe.txt'}: not a regular file (a pipe, socket or device); leave it out",
    }
    assert (report.hidden_files, report.hidden_folders) == (2, 1)
    assert report.as_dict()["hidden_files"] == 2
    assert report.documents == 2, "notes.txt and sub/linked-to.md: a link to a file is read, as the same document"
    assert "not for the index" not in "\n".join(c.text for c in open_store(settings).all_chunks())


def test_a_named_link_that_leads_nowhere_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "loop.pdf").symlink_to(tmp_path / "loop.pdf")
    assert cli.main(["ingest", str(tmp_path / "loop.pdf")]) == 2
    assert (
        capsys.readouterr().err == f"casebook: {tmp_path / 'loop.pdf'}: a symbolic link that loops back on itself; fix or remove the link\n"
    )


def test_the_cli_prints_a_line_per_skipped_item_and_one_for_hidden_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    write_docx(folder / "malformed.docx", [b"<w:document><unclosed>"])
    (folder / "dangling.pdf").symlink_to(tmp_path / "gone.pdf")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    for name in (".a.txt", ".b.md", ".c.pdf"):
        (folder / name).write_text("hidden")
    assert cli.main(["ingest", str(folder)]) == 1, "nothing could be ingested"
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"error     {folder / 'dangling.pdf'}: a symbolic link to {tmp_path / 'gone.pdf'}, which does not exist; fix or remove the link",
        f"error     {folder / 'loop.txt'}: a symbolic link that loops back on itself; fix or remove the link",
        f"error     {folder / 'malformed.docx'}: not a readable .docx file (Namespace prefix w on document is not defined, line 1, "
        "column 12 (<string>, line 1)); check it opens in a word processor",
        "skipped   3 hidden files (names starting with '.'); name one on the command line to ingest it",
    ]
    assert captured.out.startswith("ingested 0 documents (0 reviews), 0 chunks in the index;") and ", 3 errors;" in captured.out


# -- 4. file names cannot forge lines ------------------------------------------------------------


def test_shown_escapes_what_a_terminal_would_not_print_plainly() -> None:
    assert shown("/a/b c.txt") == "/a/b c.txt"
    assert shown("/a/x\nerror     y.txt") == "/a/x\\nerror     y.txt"
    assert shown("r\x1b[2Jpt\u202etxt.pdf") == "r\\x1b[2Jpt\\u202etxt.pdf"
    assert shown(os.fsdecode(b"caf\xe9.txt")) == "caf\\xe9.txt"
    assert shown("Café review.md") == "Café review.md"


def test_a_newline_in_a_file_name_cannot_forge_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "x\nerror     forged.pdf").write_bytes(b"%PDF-1.7\n not really a pdf")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Neglect was missed.")
    assert cli.main(["ingest", str(folder)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0] == f"error     {folder}/caf\\xe9.txt: the file name is not valid UTF-8; rename the file and ingest it again"
    assert lines[1].startswith(f"error     {folder}/x\\nerror     forged.pdf: not a readable PDF (")


def test_a_stored_name_holds_no_control_characters(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes\nerror     forged.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert report.documents == 1 and not report.errors
    chunk = next(iter(open_store(settings).all_chunks()))
    assert chunk.source_file == f"{folder}/notes\\nerror     forged.txt"
    assert "\n" not in chunk.title and "\n" not in chunk.heading


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_a_name_that_is_not_utf8_is_skipped_not_fatal(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Neglect was missed.")
    (folder / "notes.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert [e.reason for e in report.errors] == [
        f"{folder}/caf\\xe9.txt: the file name is not valid UTF-8; rename the file and ingest it again"
    ]
    assert report.documents == 1
