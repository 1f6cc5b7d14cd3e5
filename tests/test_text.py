"""records/text.py: the one definition of a word, a stem, a phrase match, a slug and a token count."""

from __future__ import annotations

import pytest

from records.text import STEM_LETTERS, count_tokens, encoding, phrase_form, slugify, stem, stem_list, stems, tokens, words


def test_words_keep_stopwords_and_apostrophes() -> None:
    assert words("It's the Dad, again!") == ["it's", "the", "dad", "again"]


def test_tokens_drop_stopwords_including_review_and_case() -> None:
    assert tokens("What did the Reviews say about the case of non-mobile babies?") == ["non", "mobile", "babies"]
    assert tokens("the of and") == []


def test_stems_are_the_first_letters_so_plurals_and_derivations_meet() -> None:
    assert STEM_LETTERS == 6
    assert stem("interpreters") == stem("interpreter") == "interp"
    assert stem("recommendations") == stem("recommend")
    assert stem("men") == "men"


def test_stem_list_keeps_order_and_skips_short_words() -> None:
    assert stem_list("an interpreter was used by me and DV workers") == ["interp", "used", "worker"]
    assert stems("Interpreters and the interpreter") == {"interp"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Non-Mobile  babies! ", " non mobile babies "),
        ("bruising\nin   babies", " bruising in babies "),
        ("", "  "),  # an empty term never matches: questions hold single spaces
    ],
)
def test_phrase_form(text: str, expected: str) -> None:
    assert phrase_form(text) == expected


def test_phrase_form_matches_whole_words_only() -> None:
    assert phrase_form("non mobile") in phrase_form("bruising in NON-MOBILE babies")
    assert phrase_form("men") not in phrase_form("women and children")
    assert phrase_form("men") in phrase_form("unseen men, fathers")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("2023 – Anonymous – Child A", "2023-anonymous-child-a"),
        ("  Safe sleep: what's new?  ", "safe-sleep-what-s-new"),
        ("---", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_count_tokens_uses_the_offline_cl100k_encoding() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    text = "Bruising in a non-mobile baby must always be referred."
    assert count_tokens(text) == len(encoding().encode(text))
    assert count_tokens(text + " " + text) > count_tokens(text)


def test_count_tokens_accepts_special_token_text() -> None:
    # Text from a document may contain what looks like a special token; it is counted, not refused.
    assert count_tokens("<|endoftext|>") > 1
