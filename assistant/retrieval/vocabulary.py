"""The safeguarding vocabulary (prompts/vocabulary.toml): the groups a question's words fall into, and
the question expanded with each group's terms ("non-mobile" → "pre-mobile infant, not yet crawling").

Consumes the question's text; produces ``VocabularyGroup`` records and the expanded question.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prompts import FOLDER
from records.text import phrase_form

VOCABULARY = FOLDER / "vocabulary.toml"


@dataclass(frozen=True)
class VocabularyGroup:
    name: str
    terms: tuple[str, ...]
    expand: tuple[str, ...]
    keywords: tuple[str, ...]
    age_band: str | None
    population: bool = False  # names who ("babies", "teenagers") rather than what


@lru_cache(maxsize=1)
def load_vocabulary(path: Path = VOCABULARY) -> tuple[VocabularyGroup, ...]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return tuple(
        VocabularyGroup(
            name=g["name"],
            terms=tuple(g["terms"]),
            expand=tuple(g.get("expand", ())),
            keywords=tuple(k.lower() for k in g.get("keywords", ())),
            age_band=g.get("age_band"),
            population=bool(g.get("population", False)),
        )
        for g in data["group"]
    )


def matched_groups(question: str) -> list[VocabularyGroup]:
    q = phrase_form(question)
    return [g for g in load_vocabulary() if any(phrase_form(t) in q for t in g.terms)]


def expand_question(question: str, groups: Sequence[VocabularyGroup]) -> str:
    extra: list[str] = []
    q = phrase_form(question)
    for g in groups:
        for t in g.expand:
            if phrase_form(t) not in q and t not in extra and len(t) > 3:
                extra.append(t)
    return question if not extra else question + " " + " ".join(extra)


def read_vocabulary(question: str) -> tuple[list[VocabularyGroup], str]:
    """The vocabulary groups the question uses, and the question expanded with their terms."""
    groups = matched_groups(question)
    return groups, expand_question(question, groups)
