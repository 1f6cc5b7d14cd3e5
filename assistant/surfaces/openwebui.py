"""What chat front ends built on OpenAI's API need besides the message: Open WebUI's source events for
each citation, and short replies to the background task prompts such front ends send to the model.

**Sources.** Open WebUI (0.12.x, ``utils/middleware.py``) hands any stream chunk that has an ``event``
key to the chat's event emitter, which shows a ``source`` event as a numbered chip under the answer and
stores it with the message (``socket/main.py``), so the chips survive a reload. Its chip list groups
documents by ``metadata[i].source`` (else ``source.id``) and numbers the groups in arrival order; the
answer's ``[n]`` opens group n. So each citation is one event, in [n] order, with a ``metadata`` source
unique to its [n] and never starting with ``http`` (Open WebUI would show such an id as a bare URL in
place of the title). The event rides on an ordinary chunk whose delta is empty, so clients that read
``chunk.choices[0]`` on every chunk (the ``openai`` client, LangChain's ``ChatOpenAI``) see nothing
new. A non-streamed response carries the same records as a top-level ``sources`` list, which is where
Open WebUI's front end reads a non-streamed response's sources.

**Task prompts.** Open WebUI asks the chat's model for a title, tags and follow-up suggestions after
each answer (and for search queries or autocompletion when those are switched on): one user message
that embeds the chat (``<chat_history>`` … ``</chat_history>``, turns as ``USER:``/``ASSISTANT:`` lines)
and asks for one JSON object. Casebook is not a writer of titles: such a prompt gets a valid JSON reply
at once: the title is the chat's last question, shortened; tags, follow-ups and queries are empty
lists, which Open WebUI reads as "none". A prompt counts as a task only when it embeds a chat history
*and*, outside that history, asks for one of those JSON keys; an ordinary question, however long, has
neither.

Consumes an ``Answer``'s citations and a request's user messages; produces event and source dicts and
a ``Task`` with its reply text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from assistant.surfaces.shapes import citation_out
from records.types import Answer, Citation

_HISTORY = re.compile(r"<chat_history>(.*?)</chat_history>", re.DOTALL)
# The JSON key each task asks for ({ "title": …), as Open WebUI's default templates write it.
_ASKS_FOR = re.compile(r'\{\s*"(title|tags|follow_ups|queries|text|prompt)"\s*:')
_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM|TOOL): ?", re.MULTILINE)
_EMPTY = {"tags": [], "follow_ups": [], "queries": [], "text": "", "prompt": ""}
TITLE_CHARS = 60


def source_data(c: Citation) -> dict[str, Any]:
    """One citation as Open WebUI's source record: the title names the chip, the quote is the document."""
    out = citation_out(c)
    source: dict[str, Any] = {"name": out.title}
    if out.url and out.url.startswith(("http://", "https://")):
        source["url"] = out.url  # the title in the source's window links to the review's page
    # Unique per [n]: two citations of one review stay two chips, numbered as the answer numbers them.
    meta = {"source": f"casebook:{c.n}:{out.chunk_id}", "name": out.title, "n": c.n, "source_id": out.source_id}
    return {"source": source, "document": [c.quote], "metadata": [meta]}


def sources(answer: Answer) -> list[dict[str, Any]]:
    """Every citation's source record, in [n] order."""
    return [source_data(c) for c in sorted(answer.citations, key=lambda c: c.n)]


def source_events(answer: Answer) -> list[dict[str, Any]]:
    """One Open WebUI ``source`` event per citation, in [n] order."""
    return [{"type": "source", "data": data} for data in sources(answer)]


@dataclass(frozen=True)
class Task:
    """A front end's background task prompt: what it asks for, and the chat's last question."""

    kind: str  # the JSON key asked for: title, tags, follow_ups, queries, text or prompt
    last_question: str

    def reply(self) -> str:
        """The JSON object the task asks for, as the message text."""
        if self.kind == "title":
            return json.dumps({"title": shorten(self.last_question)}, ensure_ascii=False)
        return json.dumps({self.kind: _EMPTY[self.kind]})


def read_task(user_messages: list[str]) -> Task | None:
    """The task a request's user messages ask for, or None for a question. A task prompt is the
    request's only user message."""
    if len(user_messages) != 1:
        return None
    prompt = user_messages[0]
    history = _HISTORY.search(prompt)
    if history is None:
        return None
    asks = _ASKS_FOR.search(prompt[: history.start()] + prompt[history.end() :])
    if asks is None:
        return None
    return Task(kind=asks.group(1), last_question=_last_user_turn(history.group(1)))


def _last_user_turn(history: str) -> str:
    """The last ``USER:`` turn of a history as Open WebUI writes it (one line a turn's start)."""
    turns = list(_TURN.finditer(history))
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].group(1) == "USER":
            end = turns[i + 1].start() if i + 1 < len(turns) else len(history)
            return history[turns[i].end() : end].strip()
    return ""


def shorten(question: str, limit: int = TITLE_CHARS) -> str:
    """A question as a title: one line, at most ``limit`` characters, cut at a word."""
    text = " ".join(question.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"
