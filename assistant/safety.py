"""The live-concern notice: when a question describes a current situation about a specific child,
say where to get help now (prompts/safety.toml holds the notice and the patterns).

Consumes a question; produces the notice or None.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


@lru_cache(maxsize=1)
def _safety() -> tuple[str, tuple[re.Pattern[str], ...]]:
    with open(PROMPTS / "safety.toml", "rb") as fh:
        data = tomllib.load(fh)
    return data["notice"], tuple(re.compile(p, re.IGNORECASE) for p in data["patterns"])


def safety_notice(question: str) -> str | None:
    """The notice when a question describes a current situation about a specific child."""
    notice, patterns = _safety()
    return notice if any(p.search(question) for p in patterns) else None
