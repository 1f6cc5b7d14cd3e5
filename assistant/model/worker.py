"""The in-process language model in a process of its own, so that a crash in native code (llama.cpp)
costs one answer, not Casebook.

Consumes a GGUF path and the model's limits; produces ``WorkerChatModel``, a LangChain chat model
(``invoke``/``stream``) whose calls run in a child process (assistant/model/process.py) that loads the
model once. When the child dies (a segfault, ``kill -9``, out of memory) the call raises
``ModelStopped``; when a call takes longer than the time-out the child is killed and the call raises
``GenerationError``. Either way the next call starts a fresh child. Answers fall back to the extractive
one on those errors (assistant/casebook.py), so the CLI, the chat, the API and ``casebook eval --llm``
keep going. The child is a plain ``python -m`` process, not a multiprocessing one, so it never re-runs
the caller's main script.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from records.errors import GenerationError, ModelStopped

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class ModelConfig:
    path: str
    context_tokens: int
    max_tokens: int
    threads: int = 2
    extra_buffers: bool = False  # llama.cpp's extra buffer types (AMX, repacking): off unless asked


def _how_it_ended(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class ModelWorker:
    """One child process holding the model; calls are serialised. Started on first use and again
    after a crash or a time-out."""

    def __init__(self, config: ModelConfig, timeout_s: float, label: str = "llamacpp") -> None:
        self.config, self.timeout_s, self.label = config, timeout_s, label
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._started_once = False
        self.loaded: dict[str, Any] = {}  # what the child reported on loading (extra_buffers)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def status(self) -> dict[str, Any]:
        return {"pid": self.pid, "alive": self.pid is not None, "restarts": self.restarts, **self.loaded}

    def _start(self) -> Connection:
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "assistant.model.process", str(theirs.fileno()), json.dumps(dataclasses.asdict(self.config))],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the connection is the only channel; llama.cpp's chatter is not
                env=env,
            )
        finally:
            theirs.close()
        if self._started_once:
            self.restarts += 1
        self._started_once = True
        self._process, self._conn = process, Connection(ours.detach())
        kind, detail = self._receive(time.monotonic() + max(self.timeout_s, 60.0))
        if kind == "error":
            self._stop()
            raise GenerationError(f"the language model ({self.label}) could not be loaded: {detail}")
        self.loaded = json.loads(detail)
        return self._conn

    def _receive(self, deadline: float) -> tuple[str, str]:
        assert self._conn is not None and self._process is not None
        conn, process = self._conn, self._process
        try:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                self._stop()
                raise GenerationError(f"the language model ({self.label}) did not answer within {self.timeout_s:g} s; it was stopped")
            kind, detail = conn.recv()
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            ended = _how_it_ended(process.poll())
            self._stop()
            raise ModelStopped(f"the language model ({self.label}) stopped unexpectedly ({ended})") from None
        return kind, detail

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def generate(self, messages: list[dict[str, str]], stream: bool) -> Iterator[str]:
        """The model's reply: token by token when ``stream``, else in one piece."""
        with self._lock:
            conn = self._conn if self._process is not None and self._process.poll() is None else None
            if conn is not None and conn.poll(0):  # readable while idle: the child has gone (end of file)
                conn = None
            if conn is None:
                self._stop()
                conn = self._start()
            deadline = time.monotonic() + self.timeout_s
            try:
                conn.send((messages, stream))
            except (BrokenPipeError, OSError):
                self._receive(deadline)  # reports how the child ended
            finished = False
            try:
                while True:
                    kind, detail = self._receive(deadline)
                    if kind == "token":
                        yield detail
                    elif kind == "done":
                        finished = True
                        if detail:
                            yield detail
                        return
                    else:
                        finished = True
                        raise GenerationError(f"the language model ({self.label}) failed: {detail}")
            finally:
                if not finished:  # the caller stopped reading mid-reply: the child's rest would be read as the next reply
                    self._stop()


def _message_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class WorkerChatModel(BaseChatModel):
    """LangChain's chat-model interface over a ``ModelWorker``."""

    config: ModelConfig
    timeout_s: float = 120.0
    _worker: ModelWorker = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._worker = ModelWorker(self.config, self.timeout_s)

    @property
    def worker(self) -> ModelWorker:
        return self._worker

    @property
    def _llm_type(self) -> str:
        return "casebook-llamacpp-worker"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(self._worker.generate(_message_dicts(messages), stream=False))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for token in self._worker.generate(_message_dicts(messages), stream=True):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager is not None:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
