"""What the index holds: counts by kind, year, nation, age band, outcome, and the top keywords.

Consumes the retrieval catalog (every document's first chunk, with its metadata, built from Chroma
itself, so every worker of one Chroma server counts the same) and this home's ledger (the pages
ingest excluded here); produces ``Stats``, whose ``as_dict`` ``casebook stats --json`` prints and the
chat app's empty state summarises.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from records.settings import Settings
from records.types import Stats
from vectorstore.catalog import open_catalog
from vectorstore.ledger import Ledger
from vectorstore.store import open_store


def _sorted(counter: Counter[Any]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))}


def collect_stats(settings: Settings, top: int = 20) -> Stats:
    ledger = Ledger(settings.state_path)
    try:
        exclusions = ledger.exclusions()
    finally:
        ledger.close()
    store = open_store(settings)
    chunks = store.count()
    firsts = open_catalog(settings, store).firsts if chunks else []
    reviews = [c.meta for c in firsts if c.kind == "case_review"]
    keywords: Counter[str] = Counter()
    for meta in reviews:
        keywords.update(k.lower() for k in meta.keywords)
    return Stats(
        documents=len(firsts),
        reviews=len(reviews),
        chunks=chunks,
        by_kind=_sorted(Counter(c.kind for c in firsts)),
        by_year=_sorted(Counter(m.year for m in reviews if m.year is not None)),
        by_nation=_sorted(Counter(m.nation for m in reviews)),
        by_age_band=_sorted(Counter(m.age_band for m in reviews)),
        by_outcome=_sorted(Counter(m.outcome for m in reviews)),
        top_keywords=tuple(keywords.most_common(top)),
        excluded=tuple(exclusions),
    )


def format_stats(stats: Stats) -> str:
    lines = [
        f"{stats.documents} documents ({stats.reviews} case reviews), {stats.chunks} chunks",
        "",
    ]
    for counts, label in (
        (stats.by_kind, "by kind"),
        (stats.by_year, "reviews by year published"),
        (stats.by_nation, "reviews by nation"),
        (stats.by_age_band, "reviews by age band"),
        (stats.by_outcome, "reviews by outcome"),
    ):
        lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines.append("top keywords: " + ", ".join(f"{k} ({n})" for k, n in stats.top_keywords[:12]))
    if stats.excluded:
        lines.append(f"excluded pages: {len(stats.excluded)} (see `casebook stats --json`)")
    return "\n".join(lines)
