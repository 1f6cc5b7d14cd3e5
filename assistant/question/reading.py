"""What a question asks for besides its topic, read without a language model: years, nations, areas,
the child's age, the outcome, the kind of source, and whether it asks for a count or a list.

"How many reviews published in 2023 involved a teenager who died?" is read as: published 2023 · age
11–15 or 16–17 · outcome death · a count. Peers have an LLM turn the question into filters
(LangChain's self-query retriever); here fixed patterns do it, every value is checked against the
index (a year or area with no reviews is reported, never silently dropped), and the answer says what
was read so a practitioner can see and undo it.

Consumes the question, the index's publication years and areas; produces a ``Reading``. Year words
are relative to the newest review ("last year", "in the last 3 years"), not to today's date: the
collection lags publication.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from records.text import tokens
from records.types import Filters

_Y = r"(20\d\d)"
_RANGE = re.compile(rf"\b(?:between\s+{_Y}\s+and|from\s+{_Y}\s+(?:to|until|till)|{_Y}\s*(?:-|–|to)\s*)\s*{_Y}\b", re.I)
_SINCE = re.compile(rf"\b(?:since|from|after|starting)\s+(?:the\s+start\s+of\s+)?{_Y}\b|\b{_Y}\s+(?:onwards|or\s+later)\b", re.I)
_BEFORE = re.compile(rf"\b(before|until|up\s+to|by)\s+{_Y}\b", re.I)
_YEAR = re.compile(rf"\b{_Y}\b")
_LAST_N = re.compile(r"\b(?:last|past)\s+(\d{1,2}|two|three|four|five)\s+years\b", re.I)
_LAST_YEAR = re.compile(r"\b(?:last|this)\s+year\b", re.I)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5}

NATION_WORDS = {
    "england": "England",
    "wales": "Wales",
    "welsh": "Wales",
    "scotland": "Scotland",
    "scottish": "Scotland",
    "northern ireland": "Northern Ireland",
}
AGE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Only "unborn": a pre-birth assessment or a pregnancy is about a baby whose review is usually
    # filed under the age at the incident, after birth.
    (r"unborn", ("unborn",)),
    (r"new-?borns?|babies|baby|infants?|non-?mobile", ("under 1",)),
    (r"toddlers?", ("1-4",)),
    (r"under[- ](?:fives?|5s?)|pre-?school(?:ers?)?", ("under 1", "1-4")),
    (r"primary[- ]school(?:[- ]age)?", ("5-10",)),
    (r"teen(?:ager)?s?|teenage|adolescents?|adolescence", ("11-15", "16-17")),
)
OUTCOME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"died|dies|deaths?|dead|killed|fatal(?:ly)?|murdered", ("death",)),
    (r"seriously\s+(?:injured|harmed|hurt)|serious\s+(?:injur(?:y|ies)|harm)|near[- ]fatal", ("serious harm",)),
)
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"briefings?", ("briefing",)),
    (r"guidance|(?:practice\s+)?guides?", ("guidance",)),
)
_COUNT = re.compile(r"^\s*(?:how\s+many|what\s+number\s+of|count)\b", re.I)
# What Casebook can count: reviews (and the collection's other documents), never children, weeks or
# people ("How many weeks of maternity pay…?" is not a count of reviews, and goes the scope's way).
_COUNTED = re.compile(
    r"\b(?:(?:case\s+)?reviews|cases|scrs|lcsprs|csprs|briefings|reports|documents|sources|inquiries|publications)\b", re.I
)
_LIST = re.compile(
    r"^\s*(?:which|what)\s+(?:case\s+)?(?:reviews|cases)\b|^\s*(?:list|name|show\s+me|give\s+me)\s+(?:all\s+)?(?:the\s+)?(?:case\s+)?reviews\b",
    re.I,
)
# How a counting question says "published": the count's verb, never its topic.
_PUBLISHING = re.compile(
    r"\b(?:put\s+out|brought\s+out|came\s+out|come\s+out|publish(?:ed|es|ing)?|produc(?:e|ed|es)|releas(?:e|ed|es)|"
    r"issu(?:e|ed|es)|wr(?:ote|ite|itten)|commission(?:ed|s)?|carr(?:y|ied)\s+out|complet(?:e|ed)|do|did|does|done|ha(?:ve|s|d))\b",
    re.I,
)
# The kinds of review a question may count by name; every kind is a review here.
_REVIEW_KINDS = re.compile(
    r"\b(?:serious\s+case|(?:local\s+)?(?:child\s+)?safeguarding\s+practice|case)\s+reviews?\b|\b(?:scrs?|lcsprs?|csprs?)\b", re.I
)
# Words of a counting question that are not its topic once the filters are read.
_NOT_TOPIC = {
    "mention",
    "mentions",
    "mentioned",
    "discuss",
    "discusses",
    "discussed",
    "cover",
    "covers",
    "covered",
    "feature",
    "featured",
    "many",
    "number",
    "count",
    "list",
    "name",
    "involved",
    "involve",
    "involving",
    "concerned",
    "concerning",
    "published",
    "child",
    "children",
    "young",
    "person",
    "people",
    "were",
    "there",
    "collection",
    "which",
    "who",
    "all",
    "year",
    "years",
    "last",
    "past",
    "since",
    "between",
    "before",
    "after",
    "from",
    "until",
    "show",
    "give",
}


@dataclass(frozen=True)
class Reading:
    """What was read from a question: filters, a count or list request, and words that matched nothing."""

    filters: Filters = field(default_factory=Filters)
    counting: bool = False  # "how many …", "which reviews …", "list …"
    topic: str = ""  # a counting question's topic words, once filters and count words are taken out
    said: tuple[str, ...] = ()  # what was read, in words: "published 2023", "age 11–15 or 16–17"
    unmatched: tuple[str, ...] = ()  # read values the index has nothing for

    def describe(self) -> str | None:
        return "Read as: " + " · ".join(self.said) if self.said else None


def _bands(bands: Sequence[str]) -> str:
    return " or ".join(b.replace("-", "–") for b in bands)


def _collect(low: str, table: Sequence[tuple[str, tuple[str, ...]]], spans: list[tuple[int, int]]) -> list[str]:
    """The values whose word patterns occur in the (lower-case) question, in table order; each
    match's span is added to ``spans``."""
    found: list[str] = []
    for pattern, values in table:
        for m in re.finditer(rf"\b(?:{pattern})\b", low):
            found.extend(v for v in values if v not in found)
            spans.append(m.span())
    return found


_PARTS = re.compile(r",\s*|\s+and\s+|\s+with\s+")
_NOT_PLACES = frozenset({"city", "county", "borough", "isles", "north", "south", "east", "west"})


# What may follow a one-word place name that starts a sentence, where its capital proves nothing:
# the end, punctuation, a possessive, a capitalised word or a number, or a word about its reviews
# ("Norfolk reviews…", "Kent's", "Sutton, 2022"); a lowercase word otherwise ("Reading marks…") is
# read as the sentence it starts.
_PLACE_NEXT = re.compile(
    r"\s*$|\s*[^\w\s]|\s+[A-Z0-9]|\s+(?i:(?:case\s+)?reviews?|cases?|scrs?|lcsprs?|csprs?|safeguarding|partnership|council|"
    r"lscb|lscp|and|or|in|from|since|between)\b"
)


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".?!:;\"“'("


def area_names(areas: Sequence[str]) -> dict[str, list[str]]:
    """How practitioners write each area: its whole name, and each place of a partnership of several
    ("Peterborough" for "Cambridgeshire and Peterborough", "Hackney" for "City and Hackney",
    "Blackpool" for every Lancashire partnership that names it) → the areas so written."""
    out: dict[str, list[str]] = {}
    for area in areas:
        if len(area) < 4 or area.lower() == "anonymous":
            continue
        out.setdefault(area, []).append(area)
        for part in _PARTS.split(area):
            part = part.strip()
            if part != area and len(part) >= 4 and part.lower() not in _NOT_PLACES:
                out.setdefault(part, []).append(area)
    return out


def read_question(question: str, *, years: Sequence[int], areas: Sequence[str]) -> Reading:
    """The question's own filters (see the module docstring)."""
    said: list[str] = []
    unmatched: list[str] = []
    spans: list[tuple[int, int]] = []  # what was read, so the topic leaves it out
    newest = max(years) if years else None

    year_from: int | None = None
    year_to: int | None = None
    if m := _RANGE.search(question):
        found = [int(g) for g in m.groups() if g]
        year_from, year_to = min(found), max(found)
        spans.append(m.span())
    elif m := _SINCE.search(question):
        y = int(next(g for g in m.groups() if g))
        year_from = y + 1 if m.group(0).lower().startswith("after") else y
        spans.append(m.span())
    elif m := _BEFORE.search(question):
        y = int(m.group(2))
        year_to = y - 1 if m.group(1).lower() == "before" else y
        spans.append(m.span())
    elif (m := _LAST_N.search(question)) and newest:
        n = m.group(1).lower()
        year_from, year_to = newest - (int(n) if n.isdigit() else _NUMBERS[n]) + 1, newest
        spans.append(m.span())
    elif (m := _LAST_YEAR.search(question)) and newest:
        year_from = year_to = newest
        spans.append(m.span())
    elif found_years := list(_YEAR.finditer(question)):
        values = sorted({int(f.group(1)) for f in found_years})
        year_from, year_to = values[0], values[-1]
        spans.extend(f.span() for f in found_years)
    if year_from is not None or year_to is not None:
        lo, hi = year_from or (min(years) if years else 0), year_to or (newest or 9999)
        if year_from == year_to:
            said.append(f"published {year_from}")
        elif year_from and year_to:
            said.append(f"published {year_from}–{year_to}")
        elif year_from:
            said.append(f"published {year_from} or later")
        else:
            said.append(f"published up to {year_to}")
        if years and not any(lo <= y <= hi for y in years):
            unmatched.append(said[-1])

    low = question.lower()
    nations = []
    for word, nation in NATION_WORDS.items():
        for m in re.finditer(rf"\b{word}\b", low):
            if nation not in nations:
                nations.append(nation)
            spans.append(m.span())
    if nations:
        said.append("in " + " or ".join(nations))

    found_areas: list[str] = []
    names = area_names(areas)
    for name in sorted(names, key=len, reverse=True):
        # Written as a place name (capitalised), so "bury" or "reading" as words are not places.
        for m in re.finditer(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", question):
            if _sentence_start(question, m.start()) and " " not in name and not _PLACE_NEXT.match(question, m.end()):
                continue  # "Reading marks on the skin…": a capital that only starts the sentence
            if not any(s <= m.start() < e for s, e in spans):
                found_areas.extend(a for a in names[name] if a not in found_areas)
                spans.append(m.span())
                break
    if found_areas:
        said.append("area " + " or ".join(found_areas))

    bands = _collect(low, AGE_WORDS, spans)
    if bands:
        said.append(f"age {_bands(bands)}")
    outcomes = _collect(low, OUTCOME_WORDS, spans)
    if outcomes:
        said.append("outcome " + " or ".join(outcomes))
    kinds = _collect(low, KIND_WORDS, spans)
    if kinds:
        said.append("kind " + " or ".join(kinds))

    counting = bool((_COUNT.search(question) and _COUNTED.search(question)) or _LIST.search(question))
    topic = ""
    if counting:
        kept = "".join(" " if any(s <= i < e for s, e in spans) else ch for i, ch in enumerate(question))
        kept = _PUBLISHING.sub(" ", kept)  # "did Norfolk put out": a verb of the count, not a topic
        kept = _REVIEW_KINDS.sub(" reviews ", kept)  # "serious case reviews": what is counted, not a topic
        topic = " ".join(t for t in tokens(kept) if t not in _NOT_TOPIC and not t.isdigit())
    filters = Filters(
        year_from=year_from,
        year_to=year_to,
        nation=tuple(nations),
        age_band=tuple(bands),
        outcome=tuple(outcomes),
        kind=tuple(kinds),
        area=tuple(found_areas),
    )
    return Reading(filters=filters, counting=counting, topic=topic, said=tuple(said), unmatched=tuple(unmatched))
