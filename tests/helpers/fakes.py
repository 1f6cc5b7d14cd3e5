"""Fakes that implement the real protocols, so tests exercise Casebook's logic without a model.

- ``FakeEmbedder`` is an ``Embedder`` (vectorstore/embedder.py): deterministic bag-of-words vectors.
- ``FakeChat`` is a LangChain chat model (a ``BaseChatModel``, so ``invoke`` and ``stream`` are
  LangChain's own): it answers from a queue of replies and records the messages it was sent.
- ``CoverageJudge`` is a ``Judge`` (assistant/answers/support.py): a statement is supported when the evidence
  holds enough of its word stems.

Nothing here reaches into Casebook's internals; each fake is passed in where the real thing would be.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from records.text import stems

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are close, texts sharing none are
    nearly orthogonal (words hash into ``dim`` buckets). Counts what it embeds."""

    name = "fake"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        out = []
        for text in texts:
            v = [0.0] * self.dim
            for word in _WORD.findall(text.lower()):
                v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / norm for x in v])
        return out


@dataclass(frozen=True)
class BreaksMidStream:
    """A reply that streams ``text`` and then fails with ``error`` (``invoke`` fails at once)."""

    text: str
    error: BaseException


# What a queued reply may be: the text itself, an exception to raise, a reply that breaks while it
# streams, or a function of the messages the model was sent (a model that reads its prompt).
Reply = str | BaseException | BreaksMidStream | Callable[[list[BaseMessage]], str]


class FakeChat(BaseChatModel):
    """A chat model that takes the next queued reply on every call (``invoke`` or ``stream``).

    ``received`` holds the messages of each call, in order, so a test can check what was asked;
    ``sent`` holds the text of each reply the model gave (or began to give).
    Streaming yields the reply word by word (spaces kept), so the tokens join to the reply exactly.
    """

    replies: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    sent: list[str] = Field(default_factory=list)

    def __init__(self, replies: Sequence[Reply] = (), **kwargs: Any) -> None:
        super().__init__(replies=list(replies), **kwargs)  # type: ignore[call-arg]  # pydantic fields

    @property
    def _llm_type(self) -> str:
        return "casebook-fake-chat"

    def _next(self, messages: list[BaseMessage]) -> str | BreaksMidStream:
        self.received.append(list(messages))
        if not self.replies:
            raise RuntimeError(f"FakeChat has no reply queued for call {len(self.received)}; queue one reply per model call")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, BreaksMidStream):
            self.sent.append(reply.text)
            return reply
        text = str(reply(list(messages))) if callable(reply) else str(reply)
        self.sent.append(text)
        return text

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages)
        if isinstance(reply, BreaksMidStream):
            raise reply.error
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages)
        text = reply.text if isinstance(reply, BreaksMidStream) else reply
        for token in re.findall(r"\s*\S+", text):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        if isinstance(reply, BreaksMidStream):
            raise reply.error


_SOURCE = re.compile(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', re.DOTALL)


def sources_in(messages: Sequence[BaseMessage]) -> dict[int, str]:
    """The numbered source passages the question showed the model (``<source n="1" …>`` blocks of the
    last message; the system prompt's worked example is not a source)."""
    return {int(n): body for n, body in _SOURCE.findall(str(messages[-1].content))}


def copying(*numbers: int, extra: str = "") -> Callable[[list[BaseMessage]], str]:
    """A well-behaved model: for each source number, the first sentence of that source, cited [n];
    then ``extra`` (an invented sentence, say). It reads the sources from its prompt, so the test does
    not depend on which passages retrieval ranked first."""

    def reply(messages: list[BaseMessage]) -> str:
        shown = sources_in(messages)
        parts = []
        for n in numbers:
            first = re.split(r"(?<=[.;])\s+", shown[n].strip())[0].rstrip(".;")
            parts.append(f"{first} [{n}].")
        return " ".join([*parts, extra]).strip()

    return reply


class CoverageJudge:
    """A ``Judge``: a statement is supported when the evidence holds at least ``threshold`` of the
    statement's word stems. Records every pair it was asked about."""

    name = "coverage"

    def __init__(self, threshold: float = 0.75) -> None:
        self.threshold = threshold
        self.asked: list[tuple[str, str]] = []

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        self.asked.extend(pairs)
        out = []
        for statement, evidence in pairs:
            s = stems(statement)
            out.append(len(s & stems(evidence)) / len(s) if s else 0.0)
        return out

    def verdicts(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return [score >= self.threshold for score in self.scores(pairs)]

    def supports(self, statement: str, evidence: str) -> bool:
        return self.verdicts([(statement, evidence)])[0]
