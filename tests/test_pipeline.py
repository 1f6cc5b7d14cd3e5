"""Ingest end to end on real Chroma in temporary folders: incremental, replacing, crash-safe."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from records.settings import Settings
from tests.conftest import FakeEmbedder
from vectorstore.indexer import run_ingest
from vectorstore.ledger import Ledger
from vectorstore.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def assert_consistent(settings: Settings) -> dict[str, set[str]]:
    """Every finished document has exactly its chunks #0..#n-1 in the store; nothing else is there."""
    ledger = Ledger(settings.state_path)
    try:
        assert ledger.unfinished() == []
        expected = {d.doc_id: {f"{d.doc_id}#{i}" for i in range(d.chunks)} for d in ledger.documents()}
    finally:
        ledger.close()
    actual = open_store(settings).ids_by_document()
    assert actual == expected
    return actual


def test_bundled_ingest_then_noop(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    first = run_ingest(settings, embedder=fake_embedder, progress=False)
    assert first.documents == 368 and first.reviews == 361 and first.written == 368
    assert first.chunks == open_store(settings).count() > 1000
    assert len(first.excluded) == 8
    calls = fake_embedder.texts
    second = run_ingest(settings, embedder=fake_embedder, progress=False)
    assert fake_embedder.texts == calls, "an unchanged collection costs no embedding"
    assert (second.unchanged, second.written, second.chunks) == (368, 0, first.chunks)
    assert_consistent(settings)


def test_excluded_pages_never_reach_the_index(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    run_ingest(settings, embedder=fake_embedder, progress=False)
    text = "\n".join(c.text for c in open_store(settings).all_chunks())
    for phrase in ("Customs and Border Protection", "Montana", "frozen embryos", "StatsWales", "Kolstad"):
        assert phrase not in text


def test_rebuild_starts_fresh(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    run_ingest(settings, embedder=fake_embedder, progress=False)
    before = fake_embedder.texts
    report = run_ingest(settings, rebuild=True, embedder=fake_embedder, progress=False)
    assert report.written == 368 and fake_embedder.texts == 2 * before
    assert_consistent(settings)


def _user_files(folder: Path) -> None:
    from docx import Document as Docx
    from fpdf import FPDF

    folder.mkdir()
    (folder / "notes.txt").write_text("Supervision notes\n\nNeglect was missed because home visits were cancelled.\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "learning.md").write_text("# Local learning\n\n## Fathers\n\nInvolve fathers in pre-birth assessments.\n")
    (folder / "page.html").write_text(
        "<html><body><nav><a>Home</a></nav><h1>Safeguarding in Wales</h1><p>The local authority must safeguard "
        "children at risk of abuse or neglect. Practitioners should report concerns about a child at risk to "
        "social services in Wales, share information and record their safeguarding decisions. Neglect and abuse "
        "harm children; child protection conferences decide the plan.</p><script>alert(1)</script></body></html>"
    )
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Bruising in non-mobile babies must always be referred for assessment.")
    pdf.output(str(folder / "bruising.pdf"))
    doc = Docx()
    doc.add_heading("Team briefing", level=1)
    doc.add_paragraph("Professional curiosity means asking who else lives in the home.")
    doc.save(str(folder / "briefing.docx"))
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf \x00\x01")
    (folder / "latin1.txt").write_bytes("Caf\xe9 r\xe9view of neglect".encode("latin-1"))
    (folder / "empty.md").write_text("   \n")
    (folder / "ignored.csv").write_text("a,b\n")


def test_users_files_with_bad_ones_among_them(settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    _user_files(folder)
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    problems = {Path(e.path).name: e.reason for e in report.errors}
    assert set(problems) == {"corrupt.pdf", "latin1.txt", "empty.md"}
    assert "not a readable PDF" in problems["corrupt.pdf"]
    assert "expected UTF-8" in problems["latin1.txt"] and "offset 3" in problems["latin1.txt"]
    assert "no text" in problems["empty.md"]
    assert report.documents == 5
    chunks = list(open_store(settings).all_chunks())
    text = "\n".join(c.text for c in chunks)
    assert "Bruising in non-mobile babies" in text and "Involve fathers" in text and "who else lives" in text
    assert "alert(1)" not in text and "Home" not in text
    md = next(c for c in chunks if "Involve fathers" in c.text)
    assert md.heading_path == ("Local learning", "Fathers") and md.kind == "document"
    assert_consistent(settings)


def test_a_changed_document_is_replaced_and_nothing_else_is_embedded(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    _user_files(folder)
    run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    before = fake_embedder.texts
    (folder / "notes.txt").write_text("Supervision notes\n\nThe review found that supervision lacked challenge.\n")
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert (report.written, report.unchanged) == (1, 4)
    assert fake_embedder.texts == before + 1
    text = "\n".join(c.text for c in open_store(settings).all_chunks())
    assert "lacked challenge" in text and "home visits were cancelled" not in text
    (folder / "notes.txt").unlink()
    report = run_ingest(settings, [folder], embedder=fake_embedder, progress=False)
    assert report.removed == 0, "a file no longer given is not removed by ingesting other paths"
    assert_consistent(settings)


def test_a_half_written_document_is_repaired(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    run_ingest(settings, embedder=fake_embedder, progress=False)
    store = open_store(settings)
    victim = "nspcc-2025-warrington-daniel"
    # What a kill -9 between "delete old chunks" and "upsert new ones" leaves: the ledger says
    # writing, the store holds part of the document.
    db = sqlite3.connect(settings.state_path)
    db.execute("UPDATE documents SET status = 'writing' WHERE doc_id = ?", (victim,))
    db.commit()
    db.close()
    store._collection.delete(ids=[f"{victim}#1", f"{victim}#2"])
    report = run_ingest(settings, embedder=fake_embedder, progress=False)
    assert report.repaired == 1 and report.written == 1
    assert assert_consistent(settings)[victim] == {f"{victim}#0", f"{victim}#1", f"{victim}#2"}


@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_is_consistent(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    env = {**os.environ, "CASEBOOK_HOME": str(settings.home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.slow_ingest"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if settings.state_path.exists():
            db = sqlite3.connect(settings.state_path)
            try:
                done = db.execute("SELECT count(*) FROM documents WHERE status = 'done'").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            db.close()
            if done >= 40:
                break
    assert proc.poll() is None, "the ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 40 <= done < 368
    report = run_ingest(settings, embedder=fake_embedder, progress=False)
    assert report.documents == 368 and report.unchanged >= 40
    ids = assert_consistent(settings)
    assert len(ids) == 368
