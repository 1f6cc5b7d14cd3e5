"""Run a bundled-collection ingest slowly, in small groups, so a test can kill it mid-way.

Usage: python -m tests.helpers.slow_ingest   (CASEBOOK_HOME from the environment)
"""

from __future__ import annotations

import time

from records.settings import load_settings
from tests.helpers.fakes import FakeEmbedder
from vectorstore import indexer as pipeline


class SlowEmbedder(FakeEmbedder):
    def embed(self, texts):  # type: ignore[no-untyped-def]
        time.sleep(0.15)
        return super().embed(texts)


if __name__ == "__main__":
    pipeline.GROUP_CHUNKS = 40
    pipeline.run_ingest(load_settings(), embedder=SlowEmbedder(), progress=False)
