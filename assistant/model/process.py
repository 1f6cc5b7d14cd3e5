"""The language model's own process: ``python -m assistant.model.process FD CONFIG``.

Started by assistant/model/worker.py, never by hand. Loads the llama.cpp model once, then answers requests
read from the connection on file descriptor FD, one at a time: a request is ``(messages, stream)``;
the replies are ``("token", text)``* then ``("done", text)``, or ``("error", message)``. It ends when the
connection closes (Casebook stopped or died). Imports nothing of Casebook's but this module, so a
native crash here takes down this process only.

The runtime guard against llama.cpp's AMX matrix multiply (ggml-org/llama.cpp #20824: on CPUs with AMX
a miscompiled tile configuration faults on prompts of more than one token) is applied before loading:
``use_extra_bufts`` off, so no AMX or repacked weight buffers are used whatever the build.
"""

from __future__ import annotations

import json
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

# Sampling as LangChain's ChatLlamaCpp defaults; the temperature is 0.
SAMPLING = {"temperature": 0.0, "top_p": 0.95, "top_k": 40, "repeat_penalty": 1.1}


def load(config: dict[str, Any]) -> Any:
    import llama_cpp
    import llama_cpp.llama_cpp as native

    if not config["extra_buffers"]:
        defaults = native.llama_model_default_params

        def guarded() -> Any:
            params = defaults()
            params.use_extra_bufts = False
            return params

        native.llama_model_default_params = guarded  # read by Llama.__init__ just below
    return llama_cpp.Llama(
        model_path=config["path"],
        n_ctx=config["context_tokens"],
        n_threads=config["threads"],
        n_threads_batch=config["threads"],
        verbose=False,
    )


def serve(conn: Connection, config: dict[str, Any]) -> None:
    try:
        model = load(config)
    except Exception as exc:
        conn.send(("error", f"{exc.__class__.__name__}: {exc}"))
        return
    conn.send(("ready", json.dumps({"extra_buffers": bool(model.model_params.use_extra_bufts)})))  # what was loaded, for status()
    while True:
        try:
            messages, stream = conn.recv()
        except (EOFError, OSError):  # Casebook is gone
            return
        try:
            common = {"messages": messages, "max_tokens": config["max_tokens"], **SAMPLING}
            if stream:
                for part in model.create_chat_completion(stream=True, **common):
                    text = part["choices"][0]["delta"].get("content") or ""
                    if text:
                        conn.send(("token", text))
                conn.send(("done", ""))
            else:
                reply = model.create_chat_completion(**common)
                conn.send(("done", reply["choices"][0]["message"]["content"] or ""))
        except Exception as exc:
            conn.send(("error", f"{exc.__class__.__name__}: {exc}"))


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is Casebook's to handle; it closes the connection
    fd, config = int(argv[0]), json.loads(argv[1])
    serve(Connection(fd), config)


if __name__ == "__main__":
    main(sys.argv[1:])
