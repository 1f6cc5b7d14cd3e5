"""Thumbs up / down with an optional comment, stored locally as JSON lines under CASEBOOK_HOME.

Nothing leaves the machine. Each record keeps what an evaluator needs to turn it into a test case:
the question (and the standalone question searched), the filters, the answer, its citations, and
the rating and comment.
"""

from __future__ import annotations

import fcntl
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.surfaces.shapes import answer_dict
from records.types import Answer

_LOCK = threading.Lock()


def record_feedback(path: Path, answer: Answer, *, helpful: bool, comment: str = "") -> dict[str, Any]:
    data = answer_dict(answer)
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": "up" if helpful else "down",
        "comment": comment.strip()[:2000],
        "question": data["question"],
        "standalone_question": data["standalone_question"],
        "filters": data["filters"],
        "refused": data["refused"],
        "answer": data["answer"],
        "citations": [{k: c[k] for k in ("n", "source_id", "title", "quote", "chunk_id")} for c in data["citations"]],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as fh:
        # Workers sharing CASEBOOK_HOME append to one file: a lock across processes, one line each.
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return record


def read_feedback(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
