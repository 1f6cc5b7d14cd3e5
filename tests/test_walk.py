"""The question's path (benchmarks/walk.py): read once, routed once, each stage visited in turn.

A reader following ``Casebook.ask`` on the headline question goes back by a call into a file already
read at most 10 times (13 before the question was read at the door and each stage read its part once).
"""

from __future__ import annotations

import pytest

from assistant.casebook import Casebook
from benchmarks.walk import walk
from records.settings import Settings

pytestmark = pytest.mark.slow


def test_the_headline_question_walks_each_stage_in_turn(real_index: Settings) -> None:
    w = walk(Casebook(real_index))
    assert len(w.reentries) <= 10, w.reentries
    # The stages in order: read at the door, routed, searched, counted, themed.
    firsts = list(dict.fromkeys(w.path))
    order = [
        firsts.index(f)
        for f in ("casebook.py", "question/door.py", "routes.py", "retrieval/ranking.py", "retrieval/coverage.py", "answers/themes.py")
    ]
    assert order == sorted(order), firsts
    # The question is read once: the door reads the sources it names and what it carries, nothing after it does.
    assert w.path.count("question/named.py") == 1 and w.path.count("question/reading.py") == 1, w.path
