"""records/tuned.py: every tuned number in one file, each section with where it came from; the tuners
write their own section and leave the others as they were."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from assistant.answers import refusal, support
from assistant.answers.relevance import load_model
from assistant.answers.themes import ThemeSettings
from assistant.question import scope
from assistant.question.labels import LabelSettings
from assistant.retrieval import coverage
from assistant.retrieval.ranking import RetrievalConfig
from records.errors import ConfigError
from records.tuned import TUNED_FILE, load_tuned, write_section

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("retrieval", "labels", "coverage", "refusal", "themes", "relevance", "support")


def test_every_section_says_where_its_numbers_came_from() -> None:
    tuned = load_tuned()
    assert set(tuned.sections) == set(SECTIONS)
    for name in SECTIONS:
        about = " ".join(tuned[name]["about"])
        assert len(about) > 80, name
        # a tuner's command, or "by hand"; and the split it was chosen on
        assert re.search(r"python -m evals\.\w+|by hand", about), name
    assert "TUNING" in " ".join(tuned["retrieval"]["about"]) and "TUNING" in " ".join(tuned["relevance"]["about"])


def test_the_stages_take_their_numbers_from_the_file() -> None:
    tuned = load_tuned()
    assert dict(RetrievalConfig().weights) == dict(tuned["retrieval"]["weights"])
    assert RetrievalConfig().inferred_with_vocabulary == tuned["retrieval"]["inferred_with_vocabulary"]
    assert {k: v for k, v in tuned["labels"].items() if k != "about"} == dataclasses.asdict(LabelSettings())
    assert {k: v for k, v in tuned["themes"].items() if k != "about"} == dataclasses.asdict(ThemeSettings())
    r = tuned["refusal"]
    assert (
        r["off_topic_weight"],
        r["answerable"],
        r["concept_floor"],
        r["strong_passage"],
        r["off_topic_nearest"],
    ) == (refusal.OFF_TOPIC_WEIGHT, refusal.ANSWERABLE, refusal.CONCEPT_FLOOR, refusal.STRONG_PASSAGE, scope.NEAREST)
    c = tuned["coverage"]
    assert (
        c["count_label_floor"],
        c["broad_label"],
        c["label_margin"],
    ) == (coverage.COUNT_LABEL_FLOOR, coverage.BROAD_LABEL, coverage.COVERAGE_LABEL_MARGIN)
    model = load_model()
    assert model.bias == tuned["relevance"]["bias"] and model.keep == tuned["relevance"]["thresholds"]["keep"]
    assert support.load_config().threshold == tuned["support"]["threshold"]


def test_no_other_file_holds_tuned_numbers() -> None:
    """The TOML files the tuners used to write are gone; nothing but records/tuned.toml is read for them."""
    assert not list((ROOT / "assistant").rglob("*.toml"))


def test_a_tuner_rewrites_its_own_section_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "tuned.toml"
    shutil.copy(TUNED_FILE, path)
    before = tomllib.loads(path.read_text(encoding="utf-8"))
    write_section("themes", {**{k: v for k, v in before["themes"].items() if k != "about"}, "group": 0.4}, ["chosen by a test"], path)
    after = tomllib.loads(path.read_text(encoding="utf-8"))
    assert after["themes"]["group"] == 0.4 and after["themes"]["about"] == ["chosen by a test"]
    assert {k: v for k, v in after.items() if k != "themes"} == {k: v for k, v in before.items() if k != "themes"}
    assert list(after) == list(before)  # the sections keep their order
    # Written twice the same way, the file is the same: one form whoever wrote it last.
    text = path.read_text(encoding="utf-8")
    write_section("themes", after["themes"], after["themes"]["about"], path)
    assert path.read_text(encoding="utf-8") == text
    assert load_tuned(path)["themes"]["group"] == 0.4


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    broken = tmp_path / "tuned.toml"
    broken.write_text("[themes\n")
    with pytest.raises(ConfigError, match="expected a TOML file"):
        load_tuned(broken)
    with pytest.raises(ConfigError, match=r"expected a \[nothing\] section"):
        load_tuned()["nothing"]
