"""What the index holds: counts by kind, year, nation, age band, outcome, and the top keywords.

Consumes the ledger (per-document metadata) and the store (chunk count); produces a plain dict
that ``casebook stats --json`` prints as it is and the chat app's empty state summarises.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from assistant.settings import Settings
from vectorstore.ledger import Ledger
from vectorstore.store import Store


def _sorted(counter: Counter[Any]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))}


def collect_stats(settings: Settings, top: int = 20) -> dict[str, Any]:
    ledger = Ledger(settings.state_path)
    try:
        docs = ledger.documents()
        exclusions = ledger.exclusions()
    finally:
        ledger.close()
    reviews = [d for d in docs if d["kind"] == "case_review"]
    keywords: Counter[str] = Counter()
    for d in reviews:
        keywords.update(str(k).lower() for k in d.get("keywords") or [])
    return {
        "documents": len(docs),
        "reviews": len(reviews),
        "chunks": Store(settings).count(),
        "by_kind": _sorted(Counter(str(d["kind"]) for d in docs)),
        "by_year": _sorted(Counter(str(d["year"]) for d in reviews if d.get("year") is not None)),
        "by_nation": _sorted(Counter(str(d.get("nation", "unknown")) for d in reviews)),
        "by_age_band": _sorted(Counter(str(d.get("age_band", "multiple/unknown")) for d in reviews)),
        "by_outcome": _sorted(Counter(str(d.get("outcome", "other")) for d in reviews)),
        "top_keywords": [{"keyword": k, "reviews": n} for k, n in keywords.most_common(top)],
        "excluded": [{"source_file": e.source_file, "title": e.title, "reason": e.reason} for e in exclusions],
    }


def format_stats(stats: dict[str, Any]) -> str:
    lines = [
        f"{stats['documents']} documents ({stats['reviews']} case reviews), {stats['chunks']} chunks",
        "",
    ]
    for key, label in (
        ("by_kind", "by kind"),
        ("by_year", "reviews by year published"),
        ("by_nation", "reviews by nation"),
        ("by_age_band", "reviews by age band"),
        ("by_outcome", "reviews by outcome"),
    ):
        lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in stats[key].items()))
    lines.append("top keywords: " + ", ".join(f"{k['keyword']} ({k['reviews']})" for k in stats["top_keywords"][:12]))
    if stats["excluded"]:
        lines.append(f"excluded pages: {len(stats['excluded'])} (see `casebook stats --json`)")
    return "\n".join(lines)
