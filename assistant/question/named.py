"""Sources a question names: "the Norfolk review of Child AK", "the All Wales practice guide".

A question that names a review is about that review, not about a theme, and no ranking of meaning
should be allowed to push it down. This module reads such names without a language model.

Consumes the first chunk of every indexed document (its kind, title, heading and area); produces the
ids of the documents a question names, as ``NamedSource`` records saying how the name was matched.

How a review is named: its NSPCC heading is "2020 – Hillingdon – Child X", i.e. year, area and the
child's pseudonym (or a short descriptive title). A question names the review when the pseudonym's
words appear in it, in order, and either the area is named too or the pseudonym is written as a name
(capitalised as in the heading) and no other review shares it. A pseudonym of one or two letters
("X", "JS") or a generic word ("Baby", "Child") needs the area. Other documents (briefings, guides,
pages, users' notes) are named by a distinctive part of their title, a run of at least two words
beyond the collection's generic ones ("child protection", "case reviews", "learning"), appearing in
the question in order, in a question that speaks of a document ("the guide", "the briefing", "the
review"); a user's file whose title has one distinctive word ("trampoline.txt", "riverside review.md")
only when the question puts a source noun right after that word ("the trampoline note", "the
Riverside review").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from records.text import STOPWORDS, words
from records.types import Chunk, NamedSource

# Words that name the collection's subject, not a particular source.
GENERIC = frozenset(
    {
        "child",
        "children",
        "baby",
        "babies",
        "infant",
        "infants",
        "young",
        "person",
        "people",
        "family",
        "families",
        "siblings",
        "learning",
        "safeguarding",
        "protection",
        "practice",
        "summary",
        "page",
        "nspcc",
        "serious",
        "local",
        "partnership",
        "anonymous",
    }
    | STOPWORDS
)
# A question names a briefing, guide or note by its title only when it speaks of one: "bruising in
# non-mobile babies" is a topic even if a user's note has that title; "the note on bruising in
# non-mobile babies" names the note.
SOURCE_NOUNS = frozenset(
    {"guide", "guidance", "briefing", "factsheet", "report", "page", "document", "note", "notes", "leaflet", "summary", "paper"}
)
# … or when the title, read in the question, ends with one, or is followed by one ("the riverside
# review", "the trampoline note"): "review" counts here, though "the Kent review … about safe sleep"
# does not make a note titled "safe sleep" a named source.
NAMING_NOUNS = SOURCE_NOUNS | {"review"}
_HEADING_PARTS = re.compile(r"\s+[–—-]\s+")


@dataclass(frozen=True)
class _Name:
    doc_id: str
    name: tuple[str, ...]  # the pseudonym's words, lower case
    short: tuple[str, ...]  # without a leading "child"/"baby" ("Child Elias" is also "Elias")
    written: str  # the pseudonym as the heading writes it
    area: tuple[str, ...]
    needs_area: bool


def _contains(haystack: list[str], needle: tuple[str, ...]) -> bool:
    return _position(haystack, needle) >= 0


def _position(haystack: list[str], needle: tuple[str, ...]) -> int:
    """Where ``needle`` first appears in ``haystack`` as a run of words; -1 when it does not."""
    n = len(needle)
    return next((i for i in range(len(haystack) - n + 1) if n > 0 and tuple(haystack[i : i + n]) == needle), -1)


class SourceNames:
    """Built once per index from each document's first chunk."""

    def __init__(self, firsts: Iterable[Chunk]) -> None:
        self._names: list[_Name] = []
        self._titles: list[tuple[str, tuple[str, ...]]] = []
        self._single: dict[str, list[str]] = defaultdict(list)  # a one-word title → its documents
        self._headings: dict[str, str] = {}
        for c in firsts:
            self._headings[c.doc_id] = c.display_heading
            if c.kind == "case_review":
                name = self._review_name(c)
                if name:
                    self._names.append(name)
            else:
                for part in re.split(r"[:,;()]", c.title):
                    part_words = tuple(words(part.replace("-", " ")))
                    distinctive = [w for w in part_words if w not in GENERIC]
                    if len(distinctive) >= 2:
                        self._titles.append((c.doc_id, part_words))
                    elif len(distinctive) == 1 and c.kind == "document":  # a user's file: "trampoline.txt"
                        self._single[distinctive[0]].append(c.doc_id)
        self._sharing: dict[tuple[str, ...], int] = defaultdict(int)
        self._by_area: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for n in self._names:
            self._sharing[n.short] += 1
            if n.area:
                self._by_area[n.area].append(n.doc_id)
        # Inverted by first word, so a question is compared only with the names, areas and titles
        # that could appear in it, not with every document (36k at 100× today's collection).
        self._by_short = _by_first_word(range(len(self._names)), lambda i: self._names[i].short)
        self._by_name = _by_first_word(range(len(self._names)), lambda i: self._names[i].name)
        self._areas = list(self._by_area)
        self._by_area_word = _by_first_word(range(len(self._areas)), lambda i: self._areas[i])
        self._by_title = _by_first_word(range(len(self._titles)), lambda i: self._titles[i][1])

    @staticmethod
    def _review_name(c: Chunk) -> _Name | None:
        parts = [p.strip() for p in _HEADING_PARTS.split(c.heading) if p.strip()]
        if parts and parts[0].isdigit():
            parts = parts[1:]
        area = c.meta.area or ""
        if parts and area and parts[0].lower() == area.lower():
            parts = parts[1:]
        written = " – ".join(parts).strip()
        name = tuple(words(written.replace("-", " ")))
        if not name:
            return None
        content = [w for w in name if w not in GENERIC]
        needs_area = not content or all(len(w) <= 2 for w in content)
        area_words = () if area.lower() == "anonymous" else tuple(words(area.replace("-", " ")))
        short = name[1:] if len(name) > 1 and name[0] in ("child", "baby") and not needs_area else name
        return _Name(c.doc_id, name, short, written, area_words, needs_area)

    def in_question(self, question: str) -> tuple[NamedSource, ...]:
        q = words(re.sub(r"['’]s\b", "", question).replace("-", " "))
        found: dict[str, str] = {}
        for n in (self._names[i] for i in _maybe(self._by_short, q)):
            if not _contains(q, n.short):
                continue
            if n.area and _contains(q, n.area):
                found[n.doc_id] = "name and area"
            elif not n.needs_area and self._sharing[n.short] == 1 and _written_as_name(n.short, n.written, question):
                found.setdefault(n.doc_id, "name")
        if not found:
            # "the West Glamorgan review": an area with a single review names it.
            for area in (self._areas[i] for i in _maybe(self._by_area_word, q)):
                ids = self._by_area[area]
                if len(ids) == 1 and _contains(q, area) and _contains(q, (*area, "review")):
                    found[ids[0]] = "area"
        if any(by == "name and area" for by in found.values()):
            # "the Sutton review of Child X": other reviews called "Child X" are not meant.
            found = {d: by for d, by in found.items() if by == "name and area"}
        speaks_of_a_document = bool(SOURCE_NOUNS & set(q))
        for doc_id, title in (self._titles[i] for i in _maybe(self._by_title, q)):
            at = _position(q, title)
            end = at + len(title)
            if at >= 0 and (speaks_of_a_document or title[-1] in NAMING_NOUNS or (end < len(q) and q[end] in NAMING_NOUNS)):
                found.setdefault(doc_id, "title")
        for word, after in pairwise(q):
            if after in NAMING_NOUNS and len(self._single.get(word, ())) == 1:
                found.setdefault(self._single[word][0], "title")
        return tuple(NamedSource(d, self._headings[d], by) for d, by in found.items())

    def written_name(self, doc_id: str) -> str:
        """A review's pseudonym as its heading writes it ("Child X")."""
        return next((n.written for n in self._names if n.doc_id == doc_id), self._headings.get(doc_id, doc_id))

    def read(self, question: str) -> tuple[tuple[NamedSource, ...], tuple[NamedSource, ...]]:
        """The sources the question names, and (when it names none outright) the reviews that share a
        name it gives: ``in_question`` and ``candidates`` in one reading."""
        named = self.in_question(question)
        return named, self.candidates(question, named)

    def candidates(self, question: str, named: tuple[NamedSource, ...] | None = None) -> tuple[NamedSource, ...]:
        """Reviews the question may mean but does not single out: a pseudonym several reviews share
        ("Child X"), written as a name, with no area to choose between them. Empty when the question
        names a source outright (``named``: ``in_question``'s answer, when the caller has it)."""
        if self.in_question(question) if named is None else named:
            return ()
        q = words(re.sub(r"['’]s\b", "", question).replace("-", " "))
        out = [
            NamedSource(n.doc_id, self._headings[n.doc_id], "candidate")
            for n in (self._names[i] for i in _maybe(self._by_name, q))
            if self._sharing[n.short] > 1 and _contains(q, n.name) and _written_as_name(n.name, n.written, question)
        ]
        return tuple(out) if len(out) > 1 else ()


def _by_first_word(items: Iterable[int], phrase: Callable[[int], tuple[str, ...]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i in items:
        if words_ := phrase(i):
            out[words_[0]].append(i)
    return out


def _maybe(index: dict[str, list[int]], q: list[str]) -> list[int]:
    """The items whose phrase starts with a word of the question, in their original order."""
    return sorted({i for w in set(q) for i in index.get(w, ())})


def _written_as_name(short: tuple[str, ...], written: str, question: str) -> bool:
    """The pseudonym appears in the question with its capital letters ("Nic", not "nic")."""
    capitals = [w for w in re.findall(r"[A-Za-z0-9']+", written) if w.lower() in short]
    return all(re.search(r"(?<![A-Za-z])" + re.escape(w) + r"(?![A-Za-z])", question) for w in capitals)
