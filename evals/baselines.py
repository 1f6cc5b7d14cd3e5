"""The rankers retrieval is compared with, at review level: Casebook's own, plain BM25 (bm25s over
the passage text, the question as asked) and plain dense (Chroma on the question's vector).

Consumes a ``Retriever``; produces functions question → ranked document ids, used by the retrieval
benchmark and its test so that both measure the same baselines.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.retrieval.ranking import Retriever
from records.text import tokens

Ranker = Callable[[str], list[str]]


def rankers(r: Retriever, depth: int = 100) -> dict[str, Ranker]:
    import bm25s

    chunks = list(r.store.all_chunks())
    plain = bm25s.BM25()
    plain.index([tokens(c.text) for c in chunks], show_progress=False)

    def bm25(question: str) -> list[str]:
        docs, _ = plain.retrieve([tokens(question)], k=depth, show_progress=False, n_threads=1)
        return [chunks[int(i)].doc_id for i in docs[0]]

    return {
        "casebook": lambda q: [h.doc_id for h in r.search(q, k=10)],
        "bm25": bm25,
        "dense": lambda q: [h.chunk.doc_id for h in r.dense(q, depth)],
    }
