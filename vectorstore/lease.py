"""One writer per collection: an ingest holds a lease recorded in Chroma, renewed while it runs.

Workers on other machines cannot see a lock file in one machine's home, so the lease lives where
every process that writes the index looks: the collection's metadata (``IndexState``). An ingest
takes it when no live lease is there, writes a random token, reads it back after a pause (two ingests
that started together: the later write wins, the other sees a token not its own and stops), renews it
every third of its length, and on release publishes the new generation in the same write that clears
it. A killed ingest stops renewing: its lease lapses after ``lease_s`` and the next ingest takes over
(and repairs what the killed one left half-written, from its own home's ledger).

Consumes a ``Store``; produces nothing but the lease's effects; a second ingest gets ``IndexBusy``
naming the one that holds the collection and until when.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from datetime import datetime

from records.errors import IndexBusy
from vectorstore.store import IndexState, Store

SETTLE_S = 0.3  # how long a new lease waits before reading its token back


class IngestLease:
    def __init__(self, store: Store, lease_s: float) -> None:
        self.store = store
        self.lease_s = lease_s
        self.token = secrets.token_hex(8)
        self.writer = f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now().strftime('%Y-%m-%d %H:%M:%S')}"
        self.generation = 0
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._lock = threading.Lock()

    def acquire(self) -> IndexState:
        """Take the lease, or raise ``IndexBusy``; returns the index's state as it was."""
        state = self.store.state()
        self._refuse_if_held(state)
        self.generation = state.generation
        self._write(state.chunks)
        time.sleep(SETTLE_S)
        self._refuse_if_held(self.store.state())
        self._beat = threading.Thread(target=self._renew_until_stopped, name="ingest-lease", daemon=True)
        self._beat.start()
        return state

    def renew(self) -> None:
        """Write the lease again (after the collection was recreated by a rebuild, say)."""
        self._write(self.store.count())

    def release(self, *, changed: bool) -> int:
        """Clear the lease and publish the index's generation (bumped when ``changed``) and chunk count,
        in one write; returns the generation."""
        self._stop_renewing()
        with self._lock:
            generation = self.generation + 1 if changed else self.generation
            self.store.set_state(IndexState(generation=generation, chunks=self.store.count()))
        return generation

    def abandon(self) -> None:
        """Stop renewing and clear the lease without publishing (the ingest failed); the generation stays."""
        self._stop_renewing()
        with self._lock:
            state = self.store.state()
            if state.token == self.token:
                self.store.set_state(IndexState(generation=state.generation, chunks=state.chunks))

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()

    def _refuse_if_held(self, state: IndexState) -> None:
        if state.token and state.token != self.token and state.lease_until > time.time():
            until = datetime.fromtimestamp(state.lease_until).strftime("%H:%M:%S")
            raise IndexBusy(
                f"another ingest ({state.writer}) is writing to {self.store.location.describe()}, collection "
                f"{self.store.location.collection!r}; wait for it to finish, then run this again (if it was killed, "
                f"its hold lapses at {until}, {self.lease_s:.0f} s after its last sign of life)"
            )

    def _write(self, chunks: int) -> None:
        with self._lock:
            state = IndexState(self.generation, chunks, self.writer, self.token, time.time() + self.lease_s)
            self.store.set_state(state)

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self._write(self.store.count())
            except Exception:
                continue
