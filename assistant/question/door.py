"""The question read once, at the door, into a frozen ``Question`` that every route reads.

Consumes the question as asked, the user's (already checked) filters, the conversation's earlier
questions, the collection's source names, years and areas, and optionally a language model's rewrite
of a follow-up; produces the ``Question``: checked text, a follow-up made standalone, the live-concern
notice, the sources it names (and the reviews that share a name it gives), and what it carries
(filters of its own, whether it asks for a count).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from assistant.question.followup import needs_context, standalone, topic
from assistant.question.named import SourceNames
from assistant.question.reading import Reading, read_question
from assistant.question.safety import safety_notice
from records.errors import InputError
from records.types import Filters, NamedSource

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Question:
    """A question as read once, at the door: everything the routes need to know about it."""

    text: str  # as asked (checked)
    filters: Filters  # the user's own (checked)
    history: tuple[str, ...] = ()  # earlier questions, oldest first
    rewritten: str | None = None  # a follow-up as a standalone question
    searched: str = ""  # what is searched: the standalone question, else the question as asked
    focus: str | None = None  # a follow-up's new aspect ("and what about fathers?" → "fathers")
    notice: str | None = None  # the live-concern notice, when a child may be at risk now
    named: tuple[NamedSource, ...] = ()  # sources the question names
    candidates: tuple[NamedSource, ...] = ()  # reviews that share the name it gives
    reading: Reading = field(default_factory=Reading)  # filters the question carries, and whether it counts
    count_filters: Filters = field(default_factory=Filters)  # the user's filters with the question's own filling the gaps (checked)
    search_filters: Filters = field(default_factory=Filters)  # …and for a search, an age band widened to reviews of unknown age


def check_question(question: str) -> str:
    """The question stripped; an ``InputError`` saying what to do when it is empty or too long."""
    q = question.strip() if isinstance(question, str) else ""
    if not q:
        raise InputError(
            "the question is empty; ask about the case reviews, e.g. 'what did reviews say about bruising in non-mobile babies?'"
        )
    if len(q) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(q):,} characters; the limit is {MAX_QUESTION_CHARS:,}, so shorten it to the question itself"
        )
    return q


def read_at_door(
    text: str,
    filters: Filters,
    history: Sequence[str],
    names: SourceNames,
    *,
    years: Sequence[int],
    areas: Sequence[str],
    check: Callable[[Filters], Filters],
    rewrite: Callable[[str, str], str | None] | None = None,
) -> Question:
    """``text`` read once. ``filters`` are the user's; ``check`` checks filters against the collection
    (assistant/retrieval/filters.py); ``rewrite(previous, question)`` is a language model's standalone
    form of a follow-up (None when it has none), tried before the rule-based one."""
    text = check_question(text)
    filters = check(filters)
    named, candidates = names.read(text)  # read once: candidates, reading and search use it
    # A question that names a source is about that source: nothing else is read from it.
    reading = Reading() if named else read_question(text, years=years, areas=areas)
    read = reading.filters
    if read.age_band:  # a theme question about "babies" keeps reviews of several children or unknown age
        read = replace(read, age_band=(*read.age_band, "multiple/unknown"))
    rewritten = _standalone(text, history, rewrite)
    return Question(
        text=text,
        filters=filters,
        history=tuple(history),
        rewritten=rewritten,
        searched=rewritten or text,
        focus=(topic(text) or None) if rewritten else None,
        notice=safety_notice(text),  # every kind of answer leads with it when a child may be at risk now
        named=named,
        candidates=candidates,
        reading=reading,
        count_filters=check(merged(filters, reading.filters)),
        search_filters=check(merged(filters, read)),
    )


def _standalone(question: str, history: Sequence[str], rewrite: Callable[[str, str], str | None] | None) -> str | None:
    if not history or not needs_context(question):
        return None
    return (rewrite(history[-1], question) if rewrite else None) or standalone(question, history)


def merged(explicit: Filters, read: Filters) -> Filters:
    """The user's own filters, with what the question says filling the fields they left open."""
    return Filters(
        year_from=explicit.year_from if explicit.year_from is not None or explicit.year_to is not None else read.year_from,
        year_to=explicit.year_to if explicit.year_from is not None or explicit.year_to is not None else read.year_to,
        nation=explicit.nation or read.nation,
        age_band=explicit.age_band or read.age_band,
        outcome=explicit.outcome or read.outcome,
        keyword=explicit.keyword,
        kind=explicit.kind or read.kind,
        area=explicit.area or read.area,
    )
