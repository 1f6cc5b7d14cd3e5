"""Follow-up questions → standalone questions, without an LLM.

"and what about fathers?" after "what did reviews say about bruising in non-mobile babies?" is searched
as "what about fathers? (bruising non-mobile babies)". A question is rewritten only when it refers
back: it opens with a continuation ("and …", "what about …", "also …") or leans on a pronoun ("it",
"they", "those cases") with little topic of its own. Anything else is searched as asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from records.text import tokens

_CONTINUATION = re.compile(
    r"^\s*(?:and|but|also|so|then|what about|how about|what of|and what about|and how about|same for|and for)\b",
    re.IGNORECASE,
)
_REFERS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|those|these|that|this|such|the same|there|he|she|his|her)\b",
    re.IGNORECASE,
)
_QUESTION_WORDS = {"what", "which", "how", "why", "when", "where", "who", "did", "does", "do", "say", "said", "reviews"}
MAX_OWN_TOPIC_WORDS = 4


def topic(question: str) -> str:
    """The content words of a question, in order: what a follow-up inherits."""
    words = [t for t in tokens(question) if t not in _QUESTION_WORDS]
    return " ".join(dict.fromkeys(words))


def needs_context(question: str) -> bool:
    own = [t for t in tokens(question) if t not in _QUESTION_WORDS]
    if _CONTINUATION.match(question):
        return True
    return bool(_REFERS_BACK.search(question)) and len(own) <= MAX_OWN_TOPIC_WORDS


def standalone(question: str, previous: Sequence[str]) -> str | None:
    """The question to search for, when it needs the conversation; None when it stands alone.
    ``previous`` holds the earlier standalone questions, oldest first."""
    if not previous or not needs_context(question):
        return None
    context = topic(previous[-1])
    if not context:
        return None
    return f"{question.strip()} ({context})"
