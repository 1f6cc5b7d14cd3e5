"""Server mode against a real `chroma run`, and the real embedding model end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from records.settings import Settings, load_settings
from records.types import Filters
from tests.helpers.net import chroma_server as running_chroma
from vectorstore.indexer import run_ingest
from vectorstore.store import open_store

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with running_chroma(tmp_path / "server-data") as port:
        yield port


def _records(settings: Settings) -> dict[str, tuple[str, int, int, str]]:
    return {c.chunk_id: (c.text, c.start, c.end, repr(c.meta)) for c in open_store(settings).all_chunks()}


def test_server_mode_holds_the_same_records_as_embedded(tmp_path: Path, chroma_server: int) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Learning\n\n## Sleep\n\nCo-sleeping after alcohol raises the risk of SUDI.\n")
    (folder / "b.txt").write_text("Fathers and unseen men were not assessed before the baby was born.\n")
    embedded = load_settings(env={"CASEBOOK_HOME": str(tmp_path / "embedded")})
    server = load_settings(
        env={
            "CASEBOOK_HOME": str(tmp_path / "server-home"),
            "CASEBOOK_CHROMA_MODE": "server",
            "CASEBOOK_CHROMA_PORT": str(chroma_server),
        }
    )
    a = run_ingest(embedded, [folder], progress=False)
    b = run_ingest(server, [folder], progress=False)
    assert a.documents == b.documents == 2
    assert _records(embedded) == _records(server) != {}
    q = open_store(server).query(open_store(embedded)._collection.get(include=["embeddings"], limit=1)["embeddings"][0], k=2)
    assert {h.chunk.doc_id for h in q} <= {c.split("#")[0] for c in _records(server)}
    assert run_ingest(server, [folder], progress=False).unchanged == 2


def test_real_model_index_of_the_bundled_collection(real_index: Settings) -> None:
    from vectorstore.embedder import load_embedder

    store = open_store(real_index)
    assert store.count() > 1000
    vector = load_embedder().embed(["co-sleeping with a baby after drinking alcohol"])[0]
    hits = store.query(vector, k=10)
    assert any("sleep" in h.chunk.text.lower() for h in hits[:5])
    keyword_hits = store.query(vector, k=5, filters=Filters(keyword=("sleeping behaviour",)))
    assert keyword_hits and all("sleeping behaviour" in [k.lower() for k in h.chunk.meta.keywords] for h in keyword_hits)
