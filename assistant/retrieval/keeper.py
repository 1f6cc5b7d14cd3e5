"""The retriever over the index as it is now, kept current without holding up a question.

Another process may change the index while this one serves: an ingest in the same home (it builds
the new catalog there and names it in CURRENT) or, with a Chroma server, an ingest on another machine
(it records a new generation in the collection's metadata, vectorstore/store.py ``IndexState``).
Before each question the keeper looks: a newer catalog in this home is loaded at once (it is already
built); a new generation in Chroma, asked at most every ``index_check_s`` seconds (one small request),
starts a rebuild of this home's catalog from Chroma in the background, while questions are answered
from the previous one; the new retriever replaces it in one assignment when it is ready. A worker
with an empty home needs nothing but the Chroma server.

Consumes the settings and the embedder; produces the current ``Retriever``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from assistant.retrieval.ranking import Retriever, open_retriever
from records.errors import CasebookError
from records.settings import Settings
from vectorstore.embedder import Embedder

log = logging.getLogger(__name__)


class IndexKeeper:
    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._asked = 0.0  # when Chroma was last asked for its generation (monotonic seconds)
        self._building: threading.Thread | None = None
        self.rebuilds = 0  # catalogs rebuilt in the background

    def current(self) -> Retriever:
        with self._lock:
            r = self._retriever
            if r is None or not r.catalog.is_current():
                r = self._retriever = open_retriever(self.settings, self.embedder())
                self._asked = time.monotonic()
            elif self._building is None and time.monotonic() - self._asked >= self.settings.index_check_s:
                self._asked = time.monotonic()
                if self._changed(r):
                    self._building = threading.Thread(target=self._rebuild, name="catalog-rebuild", daemon=True)
                    self._building.start()
            return r

    def reset(self) -> None:
        """Forget the retriever (after an ingest in this process): the next question opens it afresh."""
        with self._lock:
            self._retriever = None

    def wait(self, timeout_s: float | None = None) -> None:
        """Until a background rebuild, if one is running, has finished (for tests and benchmarks)."""
        building = self._building
        if building is not None:
            building.join(timeout_s)

    def _changed(self, r: Retriever) -> bool:
        try:
            return r.store.state().generation != r.catalog.stamp.generation
        except CasebookError as exc:  # Chroma unreachable for a moment: keep serving, ask again later
            log.warning("could not ask the index for its generation (%s)", exc)
            return False

    def _rebuild(self) -> None:
        try:
            fresh: Retriever | None = open_retriever(self.settings, self.embedder())
        except CasebookError as exc:
            log.warning("could not rebuild the retrieval catalog (%s); serving the previous one", exc)
            fresh = None
        with self._lock:
            if fresh is not None:
                self._retriever = fresh
                self.rebuilds += 1
            self._building = None
