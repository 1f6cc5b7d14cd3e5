"""records/settings.py: defaults, then the TOML file, then CASEBOOK_* variables, then explicit overrides;
bad values are a ConfigError that says what was expected and where to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from records.errors import ConfigError
from records.settings import Settings, load_settings


def test_defaults_with_only_a_home(tmp_path: Path) -> None:
    s = load_settings(env={"CASEBOOK_HOME": str(tmp_path)})
    assert s.home == tmp_path
    assert (s.llm, s.chroma_mode, s.chroma_port, s.collection) == ("extractive", "embedded", 8000, "casebook")
    assert s.chroma_path == tmp_path / "chroma"
    assert s.state_path == tmp_path / "ledger.sqlite3"
    assert s.feedback_path == tmp_path / "feedback.jsonl"
    assert s.cache_dir == tmp_path / "cache"


def test_without_a_home_the_xdg_data_folder_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings(env={}).home == tmp_path / "xdg" / "casebook"


def test_toml_in_home_then_environment_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "casebook.toml").write_text('[casebook]\nllm = "ollama:llama3.2"\nchroma_port = 9000\ncollection = "from-toml"\n')
    env = {"CASEBOOK_HOME": str(tmp_path), "CASEBOOK_CHROMA_PORT": "9100"}
    s = load_settings(env=env)
    assert s.llm == "ollama:llama3.2", "the file sets what the environment does not"
    assert s.chroma_port == 9100, "the environment beats the file"
    assert s.collection == "from-toml"
    assert load_settings(env=env, chroma_port=9200, llm=None).chroma_port == 9200, "explicit overrides beat both"
    assert load_settings(env=env, llm=None).llm == "ollama:llama3.2", "a None override changes nothing"


def test_a_file_without_a_section_and_casebook_config(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('server_port = 8080\nauth_username = "trainer"\n')
    s = load_settings(env={"CASEBOOK_HOME": str(tmp_path / "h"), "CASEBOOK_CONFIG": str(cfg)})
    assert (s.server_port, s.auth_username) == (8080, "trainer")


def test_empty_environment_values_are_ignored(tmp_path: Path) -> None:
    s = load_settings(env={"CASEBOOK_HOME": str(tmp_path), "CASEBOOK_LLM": "", "CASEBOOK_CHROMA_PORT": ""})
    assert (s.llm, s.chroma_port) == ("extractive", 8000)


def test_paths_expand_the_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(env={}, home="~/cb").home == tmp_path / "cb"


def test_replace_returns_a_new_settings() -> None:
    s = Settings(home=Path("/x"))
    t = s.replace(llm="openai:fake")
    assert (s.llm, t.llm, t.home) == ("extractive", "openai:fake", Path("/x"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CASEBOOK_CHROMA_PORT": "eighty"},
            "setting 'chroma_port': expected int, got 'eighty'; fix it in the config file or the CASEBOOK_CHROMA_PORT",
        ),
        ({"CASEBOOK_CHROMA_MODE": "cloud"}, "chroma_mode: expected 'embedded' or 'server', got 'cloud'"),
        ({"CASEBOOK_CONFIG": "/nonexistent/casebook.toml"}, "does not exist; create it or unset the variable"),
        ({"CASEBOOK_LLM_EXTRA_BUFFERS": "maybe"}, "setting 'llm_extra_buffers': expected true or false, got 'maybe'"),
        ({"CASEBOOK_LLM_THREADS": "0"}, "setting 'llm_threads': expected a positive whole number, got '0'"),
    ],
)
def test_bad_environment_values(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CASEBOOK_HOME": str(tmp_path), **env})
    assert message in str(info.value)


def test_bad_toml_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "casebook.toml").write_text("llm = [unclosed\n")
    with pytest.raises(ConfigError, match=r"casebook\.toml is not valid TOML .*; fix or remove it"):
        load_settings(env={"CASEBOOK_HOME": str(tmp_path)})


def test_unknown_setting_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "casebook.toml").write_text("chroma_prot = 9000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CASEBOOK_HOME": str(tmp_path)})
    message = str(info.value)
    assert "unknown setting 'chroma_prot'" in message and "chroma_port" in message and "llm_timeout_s" in message


def test_bad_value_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "casebook.toml").write_text('llm_timeout_s = "soon"\n')
    with pytest.raises(ConfigError, match="setting 'llm_timeout_s': expected int, got 'soon'"):
        load_settings(env={"CASEBOOK_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('llm = ["extractive"]', "setting 'llm': expected str"),
        ("server_port = -1", "setting 'server_port': expected a positive whole number"),
        ("llm_sources = 0", "setting 'llm_sources': expected a positive whole number"),
        ("chunk_max_tokens = 1.5", "setting 'chunk_max_tokens': expected int"),
        ("server_port = true", "setting 'server_port': expected int"),
    ],
)
def test_wrong_types_and_ranges_in_the_file_are_refused(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "casebook.toml").write_text(toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CASEBOOK_HOME": str(tmp_path)})
    assert message in str(info.value)


def test_switches_read_true_and_false(tmp_path: Path) -> None:
    (tmp_path / "casebook.toml").write_text("[casebook]\nllm_extra_buffers = true\n")
    assert load_settings(env={"CASEBOOK_HOME": str(tmp_path)}).llm_extra_buffers is True
    assert load_settings(env={"CASEBOOK_HOME": str(tmp_path), "CASEBOOK_LLM_EXTRA_BUFFERS": "off"}).llm_extra_buffers is False
    assert Settings().llm_extra_buffers is False, "llama.cpp's AMX path stays off unless asked for"
