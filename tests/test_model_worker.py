"""The in-process model runs in a process of its own (assistant/model/worker.py): the packaged SmolLM2 GGUF,
real llama.cpp. A crash or a kill there costs one answer, which falls back to the extractive one with a
note; the next question gets a fresh process; a slow model is stopped and replaced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from assistant.casebook import Casebook
from assistant.model.generate import packaged_smollm2
from assistant.model.worker import ModelConfig, ModelWorker
from ingest.sources import read_collection_file
from records.errors import GenerationError, ModelStopped
from records.settings import Settings
from tests.helpers.net import free_port

pytestmark = pytest.mark.slow
BRUISING = "What did reviews say about bruising in non-mobile babies?"
# More than one token: the prompts that took llama.cpp's AMX path and crashed on CPUs with AMX.
PROMPT = [{"role": "user", "content": "Name three things a health visitor looks at on a first home visit to a newborn."}]


@pytest.fixture(scope="module")
def worker() -> Iterator[ModelWorker]:
    w = ModelWorker(ModelConfig(path=packaged_smollm2(), context_tokens=2048, max_tokens=40), timeout_s=120)
    yield w
    w.close()


def test_a_multi_token_prompt_is_answered_by_the_model_in_its_own_process(worker: ModelWorker) -> None:
    text = "".join(worker.generate(PROMPT, stream=False))
    assert len(text.split()) >= 3
    status = worker.status()
    assert status["alive"] and status["pid"] != os.getpid()
    assert status["extra_buffers"] is False, "the runtime guard: no AMX or repacked buffers"
    streamed = list(worker.generate(PROMPT, stream=True))
    assert len(streamed) > 1 and "".join(streamed).strip()


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_crashed_model_process_costs_one_reply_and_is_replaced(worker: ModelWorker, sig: signal.Signals) -> None:
    "".join(worker.generate(PROMPT, stream=False))  # started and loaded
    before, restarts = worker.pid, worker.restarts
    assert before is not None
    got: list[str] = []
    with pytest.raises(ModelStopped, match=f"stopped unexpectedly \\(killed by signal {sig.name}\\)"):
        for token in worker.generate(PROMPT, stream=True):
            got.append(token)
            if len(got) == 2:
                os.kill(before, sig)
    assert worker.pid is None
    assert len("".join(worker.generate(PROMPT, stream=False)).split()) >= 3
    assert worker.pid not in (None, before) and worker.restarts == restarts + 1


def test_a_reply_abandoned_midway_does_not_leak_into_the_next(worker: ModelWorker) -> None:
    for _ in worker.generate(PROMPT, stream=True):
        break  # the caller stops reading after one token
    again = "".join(worker.generate([{"role": "user", "content": "Say the single word: yes"}], stream=False))
    assert again.strip() and len(again.split()) < 30


def test_a_model_slower_than_the_time_out_is_stopped_and_replaced() -> None:
    slow = ModelWorker(ModelConfig(path=packaged_smollm2(), context_tokens=2048, max_tokens=400), timeout_s=0.3)
    try:
        with pytest.raises(GenerationError, match=r"did not answer within 0.3 s"):
            "".join(slow.generate([{"role": "user", "content": "Write a long story about a lighthouse keeper."}], stream=False))
        assert slow.pid is None
        slow.timeout_s = 120
        assert "".join(slow.generate(PROMPT, stream=False)).strip()
        assert slow.restarts == 1
    finally:
        slow.close()


def test_a_model_that_cannot_load_says_so(tmp_path: pytest.TempPathFactory) -> None:
    bad = tmp_path / "broken.gguf"  # type: ignore[operator]
    bad.write_bytes(b"GGUF not really a model")
    w = ModelWorker(ModelConfig(path=str(bad), context_tokens=512, max_tokens=8), timeout_s=60)
    with pytest.raises(GenerationError, match="could not be loaded"):
        "".join(w.generate(PROMPT, stream=False))
    w.close()


@pytest.fixture(scope="module")
def with_model(real_index: Settings) -> Iterator[Casebook]:
    cb = Casebook(real_index.replace(llm="llamacpp"))
    yield cb
    assert cb.generator is not None
    cb.generator.close()


def test_a_killed_model_falls_back_to_the_extractive_answer_and_the_next_question_is_answered(with_model: Casebook) -> None:
    cb = with_model
    generator = cb.generator
    assert generator is not None

    def kill(_: str) -> None:
        pid = generator.status()["worker"]["pid"]
        if pid:
            os.kill(pid, signal.SIGKILL)

    answer = cb.ask(BRUISING, on_token=kill)
    assert answer.written_by == "fallback"
    assert "stopped unexpectedly (killed by signal SIGKILL); this answer is composed from the sources" in answer.notes[0]
    assert answer.citations and all(c.quote in c.chunk.text for c in answer.citations)
    following = cb.ask(BRUISING)
    assert "stopped unexpectedly" not in " ".join(following.notes)
    assert generator.status()["worker"]["alive"] and generator.status()["worker"]["restarts"] >= 1


def test_the_bruising_question_gets_the_models_checked_answer_from_the_cli(real_index: Settings) -> None:
    """The done-when of the AMX issue: on this CPU, the model's text kept by the guard, no fallback."""
    env = {k: v for k, v in os.environ.items() if k != "CASEBOOK_RELEVANCE_MODEL"}  # the packaged relevance model
    env["CASEBOOK_HOME"] = str(real_index.home)
    run = subprocess.run(
        [sys.executable, "-m", "assistant.surfaces.cli", "ask", "--llm", "llamacpp", BRUISING, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads(run.stdout)
    assert data["written_by"] == "llamacpp", data["notes"]
    assert data["notes"][0].startswith("Written by llamacpp; every sentence was checked")
    for c in data["citations"]:
        source = read_collection_file(c["source_file"]).text
        assert source[c["quote_start"] : c["quote_end"]] == c["quote"]


def test_a_killed_model_during_a_streamed_api_answer_leaves_the_server_serving(with_model: Casebook) -> None:
    """kill -9 of the model's process while an answer is being made: that request gets the extractive
    answer with the note, the next is answered by a fresh process, and /api/health stays 200."""
    import httpx

    from assistant.surfaces.server import serve

    cb = with_model
    generator = cb.generator
    assert generator is not None
    generator.close()  # no process yet: the request below starts one, and it is killed as soon as it exists
    port = free_port()
    server = serve(cb, host="127.0.0.1", port=port, block=False)
    base = f"http://127.0.0.1:{port}"
    body = {"model": "casebook-llamacpp", "stream": True, "messages": [{"role": "user", "content": BRUISING}]}
    try:
        result: dict[str, str] = {}

        def stream() -> None:
            with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=300) as r:
                result["text"] = "".join(
                    json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                    for line in r.iter_lines()
                    if line.startswith("data: {")
                )

        asking = threading.Thread(target=stream)
        asking.start()
        deadline = time.monotonic() + 120
        while generator.status()["worker"]["pid"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = generator.status()["worker"]["pid"]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        asking.join(timeout=300)
        assert "stopped unexpectedly" in result["text"] and "composed from the sources" in result["text"]
        health = httpx.get(base + "/api/health", timeout=30)
        assert health.status_code == 200 and health.json()["llm"]["worker"]["restarts"] >= 1
        again = httpx.post(base + "/v1/chat/completions", json={**body, "stream": False}, timeout=300).json()
        text = again["choices"][0]["message"]["content"]
        assert "stopped unexpectedly" not in text and again["citations"]
        assert generator.status()["worker"]["alive"]
    finally:
        server.close()
