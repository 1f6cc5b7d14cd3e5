"""The casebook command on the fixture index: bad input is one line on stderr, exit status 2, no traceback.

Only errors raised before the first search are exercised here: the command builds its own facade, which
loads the real embedding model to search (tests/test_ask.py covers those, marked slow).
"""

from __future__ import annotations

import json

import pytest

from assistant.surfaces import cli
from records.settings import Settings


@pytest.fixture
def on_fixture(fixture_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CASEBOOK_HOME", str(fixture_index.home))
    return fixture_index


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "the question is empty; ask about the case reviews"),
        (["ask", "x" * 2001], "the question is 2,001 characters; the limit is 2,000"),
        (["search", "   "], "the question is empty"),
        (["search", "neglect", "--k", "0"], "k: expected 1 to 100 results, got 0"),
        (["prompts", "--theme", "safe sleep", "--n", "50"], "--n: expected 1 to 20 prompts, got 50"),
        (["ask", "neglect", "--llm", "gpt"], "llm: expected one of extractive, llamacpp[:PATH], ollama:MODEL, openai:MODEL; got 'gpt'"),
        (["ask", "neglect", "--llm", "openai"], "llm: openai needs a model name, e.g. openai:llama3.2"),
        (["ask", "neglect", "--llm", "llamacpp:/nowhere/m.gguf"], "llm: no GGUF file at /nowhere/m.gguf"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(on_fixture: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("casebook: ") and captured.err.count("\n") == 1
    assert message in captured.err and "Traceback" not in captured.err


def test_a_bad_setting_in_the_environment(
    on_fixture: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CASEBOOK_CHROMA_PORT", "eighty")
    assert cli.main(["stats"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "casebook: setting 'chroma_port': expected int, got 'eighty'; fix it in the config file "
        "or the CASEBOOK_CHROMA_PORT environment variable\n"
    )


def test_a_malformed_flag_is_argparses_usage_error(on_fixture: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["search", "neglect", "--year-from", "last year"])
    assert info.value.code == 2
    assert "argument --year-from: invalid int value: 'last year'" in capsys.readouterr().err


def test_stats_of_the_fixture_index(on_fixture: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["documents"], data["reviews"]) == (9, 4)
    assert data["by_outcome"] == {"death": 2, "other": 1, "serious harm": 1}
    assert cli.main(["stats"]) == 0
    assert capsys.readouterr().out.startswith("9 documents (4 case reviews), ")
