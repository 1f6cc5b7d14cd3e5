"""OpenAI's chat-completion response format, exactly, with Casebook's extra fields beside it.

Consumes a reply's text, the fields that travel beside it (citations, flags, Open WebUI's sources) and
the events a stream carries; produces the JSON body of a plain response, or the server-sent events of
a streamed one: the role, the text line by line, one chunk per event (an ``event`` key beside an empty
delta, so every chunk has ``choices[0]`` for clients that read it), a final chunk with finish_reason
"stop" that carries the extra fields, then ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from records.text import count_tokens


def usage(question: str, text: str) -> dict[str, int]:
    prompt, completion = count_tokens(question), count_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(ident: str, created: int, model: str, question: str, text: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A plain (not streamed) ``chat.completion``."""
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage(question, text),
        **extra,
    }


async def chunks(
    ident: str, created: int, model: str, text: str, extra: dict[str, Any], events: list[dict[str, Any]]
) -> AsyncIterator[str]:
    """The ``chat.completion.chunk`` stream, as server-sent events."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **more,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    lines = text.split("\n")  # the live-concern notice, when there is one, comes first
    for i, line in enumerate(lines):
        yield chunk({"content": line + ("\n" if i < len(lines) - 1 else "")})
        await asyncio.sleep(0)
    for event in events:
        yield chunk({}, event=event)
    yield chunk({}, "stop", **extra)
    yield "data: [DONE]\n\n"
