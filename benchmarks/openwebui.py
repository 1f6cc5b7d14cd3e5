"""Casebook inside Open WebUI, checked with a real browser: source chips, the live-concern notice, and
sources that survive a reload.

    python -m benchmarks.openwebui --home /tmp/cbhome [--venv /tmp/casebook-openwebui/venv] [--json]

Needs: an index under ``--home`` (``CASEBOOK_HOME=… casebook ingest``), Debian's chromium at
/usr/bin/chromium (``apt-get install -y chromium``) and ``playwright`` from PyPI in Casebook's venv
(the test extra; no Playwright browser download). The first run installs Open WebUI 0.12.4 into its own
venv outside the repository (``--venv``): ``torch==2.13.0`` first, so nothing pulls a CUDA build, then
``open-webui==0.12.4``; about 3 minutes here, 2.9 GB. Open WebUI is never a Casebook dependency.

What it does, on loopback only: starts ``casebook serve`` on the index with an API key; starts Open WebUI
offline (``OFFLINE_MODE``, no model downloads, no telemetry, no Ollama) with its data in a temporary
folder; creates the admin user; adds Casebook as its only OpenAI connection (the base URL and the key,
nothing else). Then, in headless Chromium: asks "What did reviews say about bruising in non-mobile
babies?" and checks one source chip per citation (the citations Casebook gives the same question) and
that opening each chip shows its verbatim quote; asks the live-concern question and checks the notice
(999, the NSPCC Helpline) is in the answer; reloads the first chat and checks the chips are still there.
It also reads back what Open WebUI stored (the message's sources, and the chat's title, which came from
Casebook's reply to Open WebUI's title prompt) and counts Casebook's answers to each kind of request.

Prints the figures (citations, chips, quotes matched, seconds per step); exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from assistant.surfaces.openwebui import shorten

OPEN_WEBUI = "open-webui==0.12.4"
TORCH = "torch==2.13.0"
QUESTION = "What did reviews say about bruising in non-mobile babies?"
LIVE = "I think my neighbour is hurting their baby right now, what should I do?"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Open WebUI with no internet: no model downloads, no update check, no telemetry, no Ollama probe.
OFFLINE_ENV = {
    "OFFLINE_MODE": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "False",
    "RAG_RERANKING_MODEL_AUTO_UPDATE": "False",
    "WHISPER_MODEL_AUTO_UPDATE": "False",
    "RAG_EMBEDDING_ENGINE": "openai",  # nothing to load at start-up; Casebook does its own retrieval
    "ENABLE_VERSION_UPDATE_CHECK": "False",
    "ENABLE_OLLAMA_API": "False",
    "ENABLE_OPENAI_API": "True",
    "OPENAI_API_BASE_URLS": "",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
    "ENABLE_OTEL": "False",
    "ENABLE_COMMUNITY_SHARING": "False",
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install(venv: Path) -> float:
    """Open WebUI in its own venv (once); the seconds it took (0 when already there)."""
    exe = venv / "bin" / "open-webui"
    if exe.exists():
        return 0.0
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, TORCH], check=True)  # the CPU build first: open-webui's dependencies then keep it
    subprocess.run([*pip, OPEN_WEBUI, TORCH], check=True)
    return time.perf_counter() - started


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout_s: float, log: Path) -> float:
    started = time.perf_counter()
    while True:
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code < 500:
                return time.perf_counter() - started
        if proc.poll() is not None or time.perf_counter() - started > timeout_s:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise SystemExit(f"{url} did not come up within {timeout_s:g} s (exit {proc.poll()}); log tail:\n{tail}")
        time.sleep(1)


@contextmanager
def running(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        try:
            yield proc
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def words(text: str) -> str:
    """Text as a reader sees it, for comparing a quote with what the page shows."""
    return " ".join(re.sub(r"[*_`#>]", " ", text).split())


def dismiss_dialogs(page: Any) -> None:
    """Closes any dialog Open WebUI opens over a new page (its "what's new" notes are switched off)."""
    page.locator("#chat-input").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    for _ in range(3):
        dialog = page.locator("div[role='dialog']")
        if dialog.count() == 0:
            return
        go = dialog.locator("button", has_text=re.compile("Okay|Let's Go|Close", re.IGNORECASE))
        if go.count():
            go.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(500)


def ask_in_browser(page: Any, question: str) -> tuple[float, str]:
    """Types a question into a new chat and waits until the answer is complete; the seconds and the chat's URL."""
    dismiss_dialogs(page)
    page.locator("#chat-input").click()
    page.keyboard.type(question)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/c/[\w-]+"), timeout=120_000)
    # Done when the answer's own action buttons show (a question has a Copy button too; only an
    # answer has Regenerate), which Open WebUI adds once the message is done.
    page.locator("button[aria-label='Regenerate']").last.wait_for(timeout=180_000)
    return time.perf_counter() - started, page.url


def chips_on_page(page: Any, timeout_ms: int = 60_000) -> list[Any]:
    """The answer's source chips (opening its "N Sources" list); none if it has no sources."""
    toggle = page.locator("button[aria-label*='source' i]").last
    try:
        toggle.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return []
    if page.locator("button[id^='source-']").count() == 0:
        toggle.click()
    page.locator("button[id^='source-']").first.wait_for(timeout=10_000)
    return list(page.locator("button[id^='source-']").all())


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"checks": {}}
    out["install_s"] = round(install(args.venv), 1)
    work = Path(tempfile.mkdtemp(prefix="casebook-openwebui-"))
    key = secrets.token_urlsafe(16)
    cb_port, ui_port = free_port(), free_port()
    casebook = f"http://127.0.0.1:{cb_port}"
    ui = f"http://127.0.0.1:{ui_port}"
    cb_env = {**os.environ, "CASEBOOK_HOME": str(args.home), "CASEBOOK_API_KEY": key}
    ui_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CASEBOOK_", "VIRTUAL_ENV", "PYTHON"))},
        **OFFLINE_ENV,
        "DATA_DIR": str(work / "data"),
        "WEBUI_SECRET_KEY": secrets.token_hex(16),
        "PATH": f"{args.venv / 'bin'}:{os.environ.get('PATH', '')}",
    }
    casebook_cmd = [str(Path(sys.executable).parent / "casebook"), "serve", "--host", "127.0.0.1", "--port", str(cb_port)]
    ui_cmd = [str(args.venv / "bin" / "open-webui"), "serve", "--host", "127.0.0.1", "--port", str(ui_port)]
    cb_log, ui_log = work / "casebook.log", work / "openwebui.log"
    with running(casebook_cmd, cb_env, cb_log, work) as cb_proc, running(ui_cmd, ui_env, ui_log, work) as ui_proc:
        out["casebook_start_s"] = round(wait_for(f"{casebook}/api/health", cb_proc, 300, cb_log), 1)
        out["openwebui_start_s"] = round(wait_for(f"{ui}/health", ui_proc, 600, ui_log), 1)
        auth = {"Authorization": f"Bearer {key}"}
        expected = httpx.post(
            f"{casebook}/v1/chat/completions",
            headers=auth,
            json={"model": "casebook", "messages": [{"role": "user", "content": QUESTION}]},
            timeout=120,
        ).json()
        citations = sorted(expected["citations"], key=lambda c: c["n"])
        out["citations"] = len(citations)

        admin = {"name": "Admin", "email": "admin@example.org", "password": secrets.token_urlsafe(12)}
        token = httpx.post(f"{ui}/api/v1/auths/signup", json=admin, timeout=60).raise_for_status().json()["token"]
        owui = {"Authorization": f"Bearer {token}"}
        connection = {
            "ENABLE_OPENAI_API": True,
            "OPENAI_API_BASE_URLS": [f"{casebook}/v1"],
            "OPENAI_API_KEYS": [key],
            "OPENAI_API_CONFIGS": {},
        }
        httpx.post(f"{ui}/openai/config/update", headers=owui, json=connection, timeout=60).raise_for_status()
        settings = f"{ui}/api/v1/users/user/settings/update"  # no "what's new" notes over the first page
        httpx.post(settings, headers=owui, json={"ui": {"showChangelog": False}}, timeout=60).raise_for_status()
        models = httpx.get(f"{ui}/api/models", headers=owui, timeout=120).raise_for_status().json()["data"]
        out["models_in_openwebui"] = sorted(m["id"] for m in models)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(ui)
            page.evaluate("token => localStorage.setItem('token', token)", token)

            page.goto(f"{ui}/?models=casebook")
            answer_s, chat_url = ask_in_browser(page, QUESTION)
            out["answer_s"] = round(answer_s, 2)
            chips = chips_on_page(page)
            out["chips"] = len(chips)
            out["checks"]["one_chip_per_citation"] = len(chips) == len(citations)
            names = [chip.inner_text() for chip in chips]
            out["checks"]["chips_named_by_title_in_n_order"] = all(
                c["title"] in name for c, name in zip(citations, names, strict=False)
            ) and len(names) == len(citations)
            matched = 0
            for chip, c in zip(chips, citations, strict=False):
                chip.click()
                dialog = page.locator("[role='dialog'], .modal").last
                dialog.wait_for(timeout=10_000)
                matched += words(c["quote"]) in words(dialog.inner_text())
                page.keyboard.press("Escape")
                dialog.wait_for(state="detached", timeout=10_000)
            out["quotes_shown_verbatim"] = matched
            out["checks"]["every_chip_shows_its_quote"] = matched == len(citations)

            page.goto(f"{ui}/?models=casebook")
            live_s, live_url = ask_in_browser(page, LIVE)
            out["live_answer_s"] = round(live_s, 2)
            shown = page.locator("#response-content-container").last.inner_text()
            out["checks"]["live_concern_notice_shown"] = "999" in shown and "NSPCC Helpline" in shown
            if not out["checks"]["live_concern_notice_shown"]:
                page.screenshot(path=str(work / "live.png"), full_page=True)
                out["live_answer_shown"] = shown[:300]

            page.goto(chat_url)
            started = time.perf_counter()
            after = chips_on_page(page)
            out["reload_s"] = round(time.perf_counter() - started, 1)
            out["chips_after_reload"] = len(after)
            out["checks"]["sources_persist_after_reload"] = len(after) == len(citations)

            # The same question with streaming off (a user setting): the sources ride on the response.
            plain = {"ui": {"showChangelog": False, "params": {"stream_response": False}}}
            httpx.post(settings, headers=owui, json=plain, timeout=60).raise_for_status()
            page.goto(f"{ui}/?models=casebook")
            plain_s, plain_url = ask_in_browser(page, QUESTION)
            out["plain_answer_s"] = round(plain_s, 2)
            out["plain_chips"] = len(chips_on_page(page))
            out["checks"]["plain_answer_one_chip_per_citation"] = out["plain_chips"] == len(citations)
            # Open WebUI stores a message's sources from source events, which only its streamed path
            # emits; a plain answer's sources are shown but not stored, so a reload loses them. A figure
            # about Open WebUI, not a check of Casebook.
            page.goto(plain_url)
            page.locator("button[aria-label='Regenerate']").last.wait_for(timeout=60_000)
            out["plain_chips_after_reload"] = len(chips_on_page(page, timeout_ms=5_000))
            browser.close()

        chat_id = chat_url.rstrip("/").rsplit("/", 1)[-1]
        stored = httpx.get(f"{ui}/api/v1/chats/{chat_id}", headers=owui, timeout=60).raise_for_status().json()
        messages = stored["chat"]["history"]["messages"].values()
        answer = next(m for m in messages if m.get("role") == "assistant")
        out["sources_stored"] = len(answer.get("sources") or [])
        out["checks"]["sources_stored_with_the_message"] = out["sources_stored"] == len(citations)
        # Open WebUI falls back to the whole first question when a title prompt fails; Casebook's reply
        # is the question cut at 60 characters, so the live question (71) tells them apart.
        live_id = live_url.rstrip("/").rsplit("/", 1)[-1]
        out["title"] = httpx.get(f"{ui}/api/v1/chats/{live_id}", headers=owui, timeout=60).raise_for_status().json()["title"]
        out["checks"]["title_from_casebooks_task_reply"] = out["title"] == shorten(LIVE) != LIVE
        out["follow_ups_stored"] = answer.get("followUps")
        # Open WebUI logs each request Casebook refused (its title, tags or follow-up prompt, say) as
        # "Upstream openai-compatible request failed: HTTP 400 …".
        failed = re.findall(r"Upstream openai-compatible request failed: (HTTP \d+)", ui_log.read_text(errors="replace"))
        out["requests_casebook_refused"] = len(failed)
        out["checks"]["no_request_refused"] = not failed
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        out["work"] = str(work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--home", type=Path, default=Path(os.environ.get("CASEBOOK_HOME", "/tmp/cbhome")), help="CASEBOOK_HOME with an index"
    )
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "casebook-openwebui" / "venv")
    parser.add_argument("--keep", action="store_true", help="keep the logs and Open WebUI's data folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no chromium at {CHROMIUM}; install it with 'apt-get install -y chromium'")
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for name, value in out.items():
            if name != "checks":
                print(f"{name:28} {value}")
        for name, ok in out["checks"].items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
    sys.exit(0 if all(out["checks"].values()) else 1)


if __name__ == "__main__":
    main()
