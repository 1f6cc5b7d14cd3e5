"""The language model's part in an answer, each kind checked before it is shown.

Consumes the answer Casebook composed from the sources (extractive or themed), the configured model
(assistant/model/generate.py) and the support judge; produces the model-written answer checked by the
grounding guard (assistant/answers/guard.py), or the theme headlines the model worded and the checks kept, or,
when the model fails or too little of what it wrote can be checked, the composed answer with a note
that says why. ``fallback_note`` words that note for every kind of failure, a crashed model process
included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.answers.guard import guard, invents
from assistant.answers.quotes import overview_line
from assistant.answers.support import OverlapJudge
from assistant.answers.themes import with_headlines
from assistant.model.generate import Generator, LLMSpec, budget_sources
from records.errors import CasebookError, ConfigError, GenerationError, ModelStopped
from records.settings import Settings
from records.types import Answer, Citation

HEADLINE_QUOTES = 4  # a theme's quotes shown to the model to word its headline


def fallback_note(exc: CasebookError, instead: str) -> str:
    """The note on an answer whose model failed: what happened, and what the answer is instead."""
    if isinstance(exc, ModelStopped):
        return f"{exc}; this answer is composed from the sources. The model is restarted for the next question."
    return f"{exc}. {instead}."


@dataclass(frozen=True)
class Writer:
    """The configured model writing over a composed answer. ``generator`` opens the model lazily."""

    settings: Settings
    spec: LLMSpec
    generator: Callable[[], Generator | None]
    judge: OverlapJudge

    def answer(self, question: str, extractive: Answer, on_token: Callable[[str], None] | None = None) -> Answer:
        """The model's answer, checked by the guard; the extractive answer, with a note, when the model
        fails or too little of what it wrote can be checked against the sources."""
        label = self.spec.label
        style = self.settings.llm_style
        per_source = style == "per_source" or (style in ("auto", "headlines") and self.spec.backend == "llamacpp")
        try:
            generator = self.generator()
            assert generator is not None
            if per_source:
                # One sentence per source, from the clause the extractive answer quotes: a small
                # model restates what it is given well and composes from several passages badly.
                first: dict[str, Citation] = {}
                for c in extractive.citations:
                    first.setdefault(c.chunk.doc_id, c)
                chosen = list(first.values())[: self.settings.llm_sources]
                sources = [c.chunk for c in chosen]
                parts = []
                for i, c in enumerate(chosen, 1):
                    line = generator.sentence(question, c.quote)
                    if line and not invents(line, c.chunk.text, question):
                        parts.append(f"{line[:-1]} [{i}]{line[-1]}")
                        if on_token is not None:
                            on_token(parts[-1] + " ")
                draft = " ".join(parts)
            else:
                sources = budget_sources(question, [h.best for h in extractive.sources[: self.settings.llm_sources]], self.settings)
                if on_token is None:
                    draft = generator.draft(question, sources)
                else:
                    tokens = []
                    for token in generator.stream(question, sources):
                        tokens.append(token)
                        on_token(token)
                    draft = "".join(tokens)
        except (GenerationError, ConfigError) as exc:
            return replace(extractive, notes=(fallback_note(exc, "Showing Casebook's extractive answer instead"),), written_by="fallback")
        checked = guard(draft, sources, self.judge)
        if checked is None:
            note = f"Too little of {label}'s answer could be checked against the sources, so this is Casebook's extractive answer."
            return replace(extractive, notes=(note,), written_by="fallback")
        r = checked.report
        note = f"Written by {label}; every sentence was checked against the passage it cites."
        if r.removed == 1:
            note += " 1 sentence the sources did not support was removed."
        elif r.removed:
            note += f" {r.removed} sentences the sources did not support were removed."
        return replace(
            extractive,
            text="\n".join([overview_line(checked.citations), checked.text]),
            citations=checked.citations,
            notes=(note,),
            themes=(),  # the extractive themes cite the extractive citations, which this answer replaces
            written_by=label,
        )

    def headlines(self, question: str, themed: Answer) -> Answer:
        """The model's sentence for each theme two or more sources make, kept only when it brings in
        at most two content words of its own (``invents``) and the support judge finds it said by at least half
        of the theme's quotes; otherwise the theme keeps its verbatim clause. Citations, quotes and
        the coverage line never change."""
        label = self.spec.label
        written: dict[int, str] = {}
        tried = 0
        try:
            generator = self.generator()
            assert generator is not None
            for i, theme in enumerate(themed.themes):
                if theme.reviews < 2:
                    continue  # one source's clause is already its own headline
                quotes = [themed.citations[n - 1].quote for n in theme.citations][:HEADLINE_QUOTES]
                tried += 1
                line = generator.headline(question, quotes)
                if self._holds(line, quotes, question):
                    written[i] = line
        except (GenerationError, ConfigError) as exc:
            return replace(themed, notes=(fallback_note(exc, "The theme headlines are the reviews' own words"),), written_by="fallback")
        if not tried:
            return themed
        if not written:
            note = f"None of {label}'s theme headlines could be checked against their themes' quotes, so they are the reviews' own words."
            return replace(themed, notes=(note,), written_by="fallback")
        note = (
            f"{len(written)} of {tried} theme headlines written by {label}, each checked against the quotes of its theme; "
            "the quotes under each are the reviews' own words."
        )
        return replace(with_headlines(themed, written, label), notes=(note,), written_by=label)

    def rewrite(self, previous: str, question: str) -> str | None:
        """The model's standalone form of a follow-up; None without a model or when it fails (the
        rule-based rewrite is used then)."""
        return self._or_none(lambda g: g.rewrite(previous, question))

    def trainer_question(self, quote: str) -> str | None:
        """The model's reflective question about a learning point; None without a model or when it
        fails (the template's question is used then)."""
        return self._or_none(lambda g: g.trainer_question(quote))

    def status(self) -> dict[str, Any] | None:
        """The model's state for health checks (for llamacpp its process: pid, alive, restarts); None
        without a model."""
        if self.spec.backend == "extractive":
            return None
        try:
            generator = self.generator()
        except (ConfigError, GenerationError) as exc:
            return {"backend": self.spec.label, "error": str(exc)}
        return generator.status() if generator is not None else None

    def _or_none(self, ask: Callable[[Generator], str | None]) -> str | None:
        if self.spec.backend == "extractive":
            return None
        try:
            generator = self.generator()
            return ask(generator) if generator is not None else None
        except (GenerationError, ConfigError):  # a model missing or down
            return None

    def _holds(self, line: str, quotes: Sequence[str], question: str) -> bool:
        bare = line.strip()
        if not 3 <= len(bare.split()) <= 40 or "[" in bare or invents(bare, " ".join(quotes), question):
            return False
        said = sum(self.judge.verdicts([(bare, q) for q in quotes]))
        return said >= max(1, -(-len(quotes) // 2))
