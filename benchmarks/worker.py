"""The local model's own process: what it costs to start, to restart after a crash, and what the AMX
guard (llama.cpp's extra buffer types off) costs in generation speed.

    python -m benchmarks.worker [--replies 5] [--json]

With the packaged SmolLM2-135M GGUF: the time from a cold ``ModelWorker`` to its first reply (start
and load included), then ``--replies`` replies of at most 64 tokens to a fixed several-token prompt with
``extra_buffers`` off (the default) and on, reported as tokens per second; then the process is killed
(SIGKILL) and the time to the next reply (restart and load included) is measured. On a CPU with AMX the
"on" run may crash the model's process: that is reported, not fatal, which is the point of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

from assistant.model.generate import packaged_smollm2
from assistant.model.worker import ModelConfig, ModelWorker
from benchmarks.timing import percentile
from records.errors import GenerationError
from records.text import count_tokens

PROMPT = [{"role": "user", "content": "List the checks a health visitor makes on a first home visit to a newborn baby."}]


def _reply(worker: ModelWorker) -> tuple[float, int]:
    started = time.perf_counter()
    text = "".join(worker.generate(PROMPT, stream=False))
    return time.perf_counter() - started, count_tokens(text)


def _speed(extra_buffers: bool, replies: int) -> dict[str, float | str]:
    worker = ModelWorker(ModelConfig(path=packaged_smollm2(), context_tokens=2048, max_tokens=64, extra_buffers=extra_buffers), 300)
    try:
        started = time.perf_counter()
        _reply(worker)
        cold = time.perf_counter() - started
        rates = []
        for _ in range(replies):
            seconds, tokens = _reply(worker)
            rates.append(tokens / seconds)
        pid = worker.pid
        assert pid is not None
        started = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        while worker.pid is not None and time.perf_counter() - started < 5:  # gone, as a crash between questions
            time.sleep(0.01)
        _reply(worker)
        restart = time.perf_counter() - started
    except GenerationError as exc:
        return {"error": str(exc)}
    finally:
        worker.close()
    return {
        "cold_first_reply_s": round(cold, 2),
        "tokens_per_s_p50": round(percentile(rates, 0.5), 1),
        "after_kill_next_reply_s": round(restart, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = {"extra_buffers_off": _speed(False, args.replies), "extra_buffers_on": _speed(True, args.replies)}
    print(json.dumps(out, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
