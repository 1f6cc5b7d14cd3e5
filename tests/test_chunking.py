"""Chunks are exact, token-bounded slices that keep their parent's metadata."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.bundled import parse_collection
from ingest.chunking import chunk_document, count_tokens
from records.types import DocMeta, Document, Section

MAX = 60

words = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=12)
sentence = st.lists(words, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
paragraph = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
bullets = st.lists(sentence, min_size=1, max_size=8).map(lambda ss: "Includes:\n" + "\n".join("- " + s for s in ss))
block = st.one_of(paragraph, bullets, st.lists(sentence, min_size=1, max_size=8).map("; ".join))
body = st.lists(block, min_size=1, max_size=8).map("\n\n".join)


def _doc(text: str, sections: tuple[Section, ...]) -> Document:
    return Document(
        doc_id="d",
        kind="document",
        title="T",
        heading="T",
        source_file="f",
        source_text=text,
        start=0,
        end=len(text),
        sections=sections,
        meta=DocMeta(year=2020),
    )


@settings(max_examples=60, deadline=None)
@given(prefix=st.text(max_size=30), text=body, suffix=st.text(max_size=30))
def test_chunks_are_exact_slices_within_their_section(prefix: str, text: str, suffix: str) -> None:
    source = prefix + text + suffix
    section = Section(name="s", start=len(prefix), end=len(prefix) + len(text), heading_path=("T",))
    chunks = chunk_document(_doc(source, (section,)), MAX)
    assert chunks, "a non-empty section yields chunks"
    last_end = section.start
    for c in chunks:
        assert c.text == source[c.start : c.end]
        assert section.start <= c.start < c.end <= section.end
        assert c.start >= last_end, "chunks do not overlap and keep order"
        last_end = c.end
        assert c.meta.year == 2020 and c.heading_path == ("T",)
    covered = "".join(source[c.start : c.end] for c in chunks)
    assert "".join(text.split()) == "".join(covered.split()), "the chunks cover every non-space character of the section"


@settings(max_examples=40, deadline=None)
@given(text=body)
def test_chunks_respect_the_token_budget_unless_one_word_is_larger(text: str) -> None:
    chunks = chunk_document(_doc(text, (Section("s", 0, len(text)),)), MAX)
    for c in chunks:
        assert count_tokens(c.text) <= MAX or len(c.text.split()) == 1


@pytest.fixture(scope="module")
def collection_chunks() -> list:
    parsed = parse_collection()
    return [(d, chunk_document(d, 180)) for d in parsed.documents]


def test_collection_chunks_are_exact_and_carry_metadata(collection_chunks: list) -> None:
    total = 0
    for doc, chunks in collection_chunks:
        for c in chunks:
            total += 1
            assert doc.source_text[c.start : c.end] == c.text
            assert c.meta == doc.meta and c.doc_id == doc.doc_id and c.kind == doc.kind
            assert count_tokens(c.text) <= 180
    assert total > 1000


def test_review_chunks_follow_summary_learning_recommendations(collection_chunks: list) -> None:
    _, chunks = next((d, c) for d, c in collection_chunks if d.doc_id == "nspcc-2025-warrington-daniel")
    assert [c.section for c in chunks] == ["summary", "learning", "recommendations"]
    assert "Learning themes include" in chunks[1].embed_text and "2025 – Warrington - Daniel" in chunks[1].embed_text


def test_briefing_lists_stay_whole(collection_chunks: list) -> None:
    _, chunks = next((d, c) for d, c in collection_chunks if d.title == "Infants: learning from case reviews")
    lead = next(c for c in chunks if "Infants who may be more vulnerable include:" in c.text)
    assert "- babies whose siblings are, or have previously been, on a child in need or child protection plan." in lead.text
