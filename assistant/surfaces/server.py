"""``casebook serve``: one server, one port, one Casebook: the chat at ``/`` (Gradio, mounted into the
API's FastAPI app) and the HTTP API beside it (assistant/surfaces/api.py), run by uvicorn.

Consumes a ``Casebook`` and the serving options; produces a running ``Server`` (``close()`` stops it
when it was started without blocking, as the tests do).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from assistant.casebook import Casebook
from assistant.surfaces.api import build_api
from assistant.surfaces.chat import build_app
from assistant.surfaces.render import CSS

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Server:
    def __init__(self, server: Any, thread: threading.Thread | None, app: Any) -> None:
        self._server, self._thread, self.app = server, thread, app

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def serve(
    cb: Casebook,
    *,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    api_key: str = "",
    block: bool = True,
    **limits: Any,
) -> Server:
    import gradio as gr
    import uvicorn

    api = build_api(cb, api_key=api_key, **limits)
    blocks = build_app(cb)
    app = gr.mount_gradio_app(api, blocks, path="/", auth=auth, css=CSS, footer_links=[], show_error=False)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    if block:
        server.run()
        return Server(server, None, app)
    thread = threading.Thread(target=server.run, daemon=True, name="casebook-server")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.05)
    return Server(server, thread, app)
