"""Chat completions as Open WebUI and strict OpenAI clients read them, with no Open WebUI here.

The stream is read the way Open WebUI 0.12.x reads it (utils/middleware.py: a chunk with an ``event``
key goes to the event emitter; socket/main.py stores a ``source`` event whose data has no ``type``;
Citations.svelte makes one chip per distinct ``metadata[i].source``), and the way the ``openai`` client,
code that reads ``chunk.choices[0]`` on every chunk, and LangChain's ``ChatOpenAI`` read it, against the
server users run (uvicorn on loopback) over the small fixture index. Open WebUI's task prompts (title,
tags, follow-ups, search queries) are shaped as its default templates are (tests/helpers/openwebui_prompts.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.casebook import Casebook
from assistant.surfaces.api import build_api
from assistant.surfaces.openwebui import read_task, shorten
from records.settings import Settings
from tests.helpers import openwebui_prompts as owui
from tests.helpers.fakes import FakeEmbedder
from tests.helpers.net import free_port

QUESTION = "What did reviews say about bruising in non-mobile babies?"
KEY = "owui-key"


@pytest.fixture(scope="module")
def cb(fixture_index: Settings) -> Casebook:
    return Casebook(fixture_index, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def client(cb: Casebook) -> TestClient:
    return TestClient(build_api(cb), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def base(cb: Casebook) -> Iterator[str]:
    from assistant.surfaces.server import serve

    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False, api_key=KEY)
    yield f"http://127.0.0.1:{port}/v1"
    server.close()


def frames(body: str) -> list[Any]:
    """The server-sent events' data, decoded; "[DONE]" stays a string."""
    out: list[Any] = []
    for line in body.split("\n"):
        if line.startswith("data:"):
            data = line[5:].strip()
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def chips(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open WebUI's chip list (Citations.svelte): documents grouped by metadata source, else source id."""
    out: list[dict[str, Any]] = []
    for source in sources:
        for i, document in enumerate(source.get("document", [])):
            meta = source["metadata"][i]
            ident = meta.get("source") or source.get("source", {}).get("id") or "N/A"
            found = next((c for c in out if c["id"] == ident), None)
            if found:
                found["documents"].append(document)
            else:
                out.append({"id": ident, "name": meta.get("name") or source["source"]["name"], "documents": [document]})
    return out


def chat(client: TestClient, content: str, **more: Any) -> Any:
    r = client.post("/v1/chat/completions", json={"model": "casebook", "messages": [{"role": "user", "content": content}], **more})
    assert r.status_code == 200, r.text[:300]
    return r


def test_a_stream_carries_one_source_event_per_citation_as_open_webui_reads_them(client: TestClient, cb: Casebook) -> None:
    got = frames(chat(client, QUESTION, stream=True).text)
    assert got[-1] == "[DONE]"
    chunks = got[:-1]
    assert all(c["object"] == "chat.completion.chunk" and len(c["choices"]) == 1 for c in chunks)
    citations = chunks[-1]["citations"]
    assert citations and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    at = [i for i, c in enumerate(chunks) if "event" in c]
    # One event per citation, after the last line of text and before the final chunk, each on a chunk
    # whose delta is empty: Open WebUI shows nothing for it, and adds nothing to the message.
    assert len(at) == len(citations)
    last_text = max(i for i, c in enumerate(chunks) if c["choices"][0]["delta"].get("content"))
    assert at == list(range(last_text + 1, len(chunks) - 1))
    for i in at:
        assert chunks[i]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": None}
    events = [chunks[i]["event"] for i in at]
    assert all(e["type"] == "source" and "type" not in e["data"] for e in events)  # stored with the message
    by_n = sorted(citations, key=lambda c: c["n"])
    for event, c in zip(events, by_n, strict=True):
        data = event["data"]
        assert set(data) <= {"source", "document", "metadata"}
        assert data["source"]["name"] == c["title"] == data["metadata"][0]["name"]
        assert data["document"] == [c["quote"]]
        assert data["metadata"][0]["n"] == c["n"]
        assert not data["metadata"][0]["source"].startswith("http")
        stored = {s.chunk_id: s.text for s in cb.chunks_of(c["source_id"])}
        assert c["quote"] in stored[c["chunk_id"]]  # verbatim from the stored passage
    # Open WebUI's chips: one per citation, numbered as the answer numbers its [n].
    shown = chips([e["data"] for e in events])
    assert [c["name"] for c in shown] == [c["title"] for c in by_n]
    assert [c["documents"] for c in shown] == [[c["quote"]] for c in by_n]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} == {c["n"] for c in by_n} == set(range(1, len(by_n) + 1))


def test_a_plain_answer_carries_the_sources_where_open_webui_reads_them(client: TestClient) -> None:
    body = chat(client, QUESTION).json()
    citations = sorted(body["citations"], key=lambda c: c["n"])
    assert citations and len(body["sources"]) == len(citations)
    assert [s["document"] for s in body["sources"]] == [[c["quote"]] for c in citations]
    assert len(chips(body["sources"])) == len(citations)
    assert body["casebook"]["task"] is None


def test_source_events_are_on_by_default_and_can_be_switched_off(client: TestClient) -> None:
    on = frames(chat(client, QUESTION, stream=True).text)[:-1]
    off = frames(chat(client, QUESTION, stream=True, source_events=False).text)[:-1]
    assert sum("event" in c for c in on) == len(on[-1]["citations"]) > 0
    assert off[-1]["citations"] == on[-1]["citations"] and not any("event" in c for c in off)
    assert "sources" in chat(client, QUESTION).json() and "sources" not in chat(client, QUESTION, source_events=False).json()


def test_strict_openai_clients_read_every_chunk_and_see_the_events(base: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=base, api_key=KEY)
    messages: Any = [{"role": "user", "content": QUESTION}]
    plain = client.chat.completions.create(model="casebook", messages=messages)
    extra = plain.model_extra or {}
    assert plain.choices[0].message.content and len(extra["sources"]) == len(extra["citations"]) > 0
    text, events, finish = "", [], None
    for chunk in client.chat.completions.create(model="casebook", messages=messages, stream=True):
        choice = chunk.choices[0]  # code that reads choices[0] on every chunk, as many clients do
        text += choice.delta.content or ""
        finish = choice.finish_reason or finish
        if "event" in (chunk.model_extra or {}):
            events.append((chunk.model_extra or {})["event"])
    assert finish == "stop" and text == plain.choices[0].message.content
    assert len(events) == len(extra["citations"])


def test_langchain_chat_openai_streams_and_answers_unchanged(base: str) -> None:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    llm = ChatOpenAI(base_url=base, api_key=SecretStr(KEY), model="casebook")
    whole = llm.invoke(QUESTION)
    streamed = "".join(str(part.content) for part in llm.stream(QUESTION))
    assert streamed == whole.content and re.search(r"\[1\]", streamed)


def history(answer: str = "Reviews found that bruising in a baby who cannot move on their own [1].") -> list[dict[str, str]]:
    return [
        {"role": "user", "content": "unsafe sleep"},
        {"role": "assistant", "content": "Reviews found … [1] [2] " * 150},  # a long cited answer, as Open WebUI resends it
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": answer * 40},
    ]


@pytest.mark.parametrize(
    ("template", "key"), [(owui.TITLE, "title"), (owui.TAGS, "tags"), (owui.FOLLOW_UP, "follow_ups"), (owui.QUERY, "queries")]
)
@pytest.mark.parametrize("stream", [False, True])
def test_open_webuis_task_prompts_get_a_short_valid_json_reply(client: TestClient, template: str, key: str, stream: bool) -> None:
    prompt = owui.render(template, history())
    assert len(prompt) > 2_000  # as a question it would be refused
    r = chat(client, prompt, stream=stream)
    if stream:
        chunks = frames(r.text)[:-1]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        body = chunks[-1]
        assert not any("event" in c for c in chunks)
    else:
        body = r.json()
        text = body["choices"][0]["message"]["content"]
        assert body["sources"] == []
    reply = json.loads(text)  # Open WebUI parses the text between the first { and the last }
    assert list(reply) == [key] and len(text) < 200
    assert body["casebook"]["task"] == key and body["citations"] == []
    if key == "title":
        assert reply["title"] == shorten(QUESTION) and QUESTION.startswith(reply["title"].rstrip("…"))
    else:
        assert reply[key] == []


def test_a_title_comes_from_the_last_question_shortened_at_a_word() -> None:
    long_q = "What did reviews say about bruising in non-mobile babies and the professionals who saw them but did not refer?"
    task = read_task([owui.render(owui.TITLE, [{"role": "user", "content": long_q}, {"role": "assistant", "content": "[1]"}])])
    assert task is not None and task.kind == "title" and task.last_question == long_q
    title = json.loads(task.reply())["title"]
    assert len(title) <= 60 and title.endswith("…") and long_q.startswith(title[:-1])


@pytest.mark.parametrize(
    "question",
    [
        "x " * 900 + "what did reviews say about neglect?",  # long, but a question
        'Reply in JSON like { "title": "…" }: what did reviews say about bruising?',  # asks for JSON, no chat embedded
        "What is <chat_history> in a chat tool, and did reviews mention chat logs? " + "context " * 50,  # names the tag, asks for no JSON
    ],
)
def test_an_ordinary_question_is_never_taken_for_a_task(client: TestClient, question: str) -> None:
    assert read_task([question]) is None
    body = chat(client, question).json()
    assert body["casebook"]["task"] is None


def test_a_task_prompt_inside_a_conversation_is_a_question() -> None:
    """Open WebUI sends a task prompt as the only user message; a user who pastes one mid-chat is asking."""
    prompt = owui.render(owui.TITLE, history())
    assert read_task([prompt]) is not None
    assert read_task(["earlier question", prompt]) is None


def test_a_json_key_inside_the_chat_history_does_not_make_a_task() -> None:
    turns = [{"role": "user", "content": 'my notes say { "title": "x" }'}, {"role": "assistant", "content": "…"}]
    assert read_task([f"Summarise:\n<chat_history>\n{owui.render('{{MESSAGES:END:2}}', turns)}\n</chat_history>"]) is None


@pytest.mark.slow
def test_on_the_bundled_collection_every_source_quote_is_verbatim_and_free_of_link_markup(real_index: Settings) -> None:
    real = Casebook(real_index)
    client = TestClient(build_api(real), raise_server_exceptions=False)
    for question in (QUESTION, "What did reviews say about unsafe sleeping arrangements for babies?"):
        chunks = frames(chat(client, question, stream=True).text)[:-1]
        events = [c["event"]["data"] for c in chunks if "event" in c]
        citations = sorted(chunks[-1]["citations"], key=lambda c: c["n"])
        assert citations and len(chips(events)) == len(citations)
        for data, c in zip(events, citations, strict=True):
            stored = {s.chunk_id: s.text for s in real.chunks_of(c["source_id"])}
            assert data["document"] == [c["quote"]] and c["quote"] in stored[c["chunk_id"]]
            assert "](" not in c["quote"]
    # No stored passage keeps a scraped page's link markup (the bundled briefing had one such passage).
    assert not [c.chunk_id for d in real.documents() for c in real.chunks_of(d.doc_id) if "](" in c.text]
