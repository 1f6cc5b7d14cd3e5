"""The live-concern notice: when a question describes a current situation about a specific child,
say where to get help now (prompts/safety.toml holds the notice and the patterns).

Consumes a question; produces the notice or None.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache

from prompts import FOLDER


@lru_cache(maxsize=1)
def _safety() -> tuple[str, tuple[re.Pattern[str], ...]]:
    with open(FOLDER / "safety.toml", "rb") as fh:
        data = tomllib.load(fh)
    return data["notice"], tuple(re.compile(p, re.IGNORECASE) for p in data["patterns"])


def safety_notice(question: str) -> str | None:
    """The notice when a question describes a current situation about a specific child."""
    notice, patterns = _safety()
    return notice if any(p.search(question) for p in patterns) else None
