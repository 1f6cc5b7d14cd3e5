"""The casebook command: ingest and stats, and the one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.surfaces import cli
from records.settings import Settings
from tests.conftest import FakeEmbedder
from vectorstore.indexer import run_ingest


def test_stats_json_fields(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run_ingest(settings, embedder=FakeEmbedder(), progress=False)
    assert cli.main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in ("documents", "reviews", "chunks", "by_kind", "by_year", "by_nation", "by_age_band", "by_outcome", "top_keywords"):
        assert key in stats
    assert stats["documents"] == 368 and stats["reviews"] == 361
    assert stats["by_kind"] == {"briefing": 2, "case_review": 361, "document": 1, "guidance": 4}
    assert stats["by_year"]["2025"] == 8 and sum(stats["by_year"].values()) == 361
    assert sum(stats["by_nation"].values()) == 361 and stats["by_nation"]["Wales"] == 3
    assert stats["top_keywords"][0]["reviews"] >= stats["top_keywords"][1]["reviews"]
    assert len(stats["excluded"]) == 8
    assert cli.main(["stats"]) == 0
    assert "361 case reviews" in capsys.readouterr().out


def test_stats_before_anything_is_indexed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats"]) == 0
    assert "nothing is indexed yet; run `casebook ingest`" in capsys.readouterr().out


def test_missing_path_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["ingest", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("casebook: ") and "no such file or folder" in err and err.count("\n") == 1


def test_bad_config_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("chroma_mode = 'cloud'\n")
    monkeypatch.setenv("CASEBOOK_CONFIG", str(cfg))
    assert cli.main(["stats"]) == 2
    assert "chroma_mode: expected 'embedded' or 'server', got 'cloud'" in capsys.readouterr().err


def test_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.surfaces.cli", "ingest", str(tmp_path / "missing.pdf")],
        capture_output=True,
        text=True,
        env={"CASEBOOK_HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "no such file or folder" in proc.stderr
