"""Follow-up questions: which ones refer back (assistant/question/followup.py), the rule-based standalone wording,
and the facade, which asks the configured model to rewrite and falls back to the rules."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.casebook import Casebook
from assistant.question.followup import needs_context, standalone, topic
from records.settings import Settings
from tests.helpers.fakes import FakeChat, FakeEmbedder, copying

EARLIER = "what did reviews say about safe sleep?"


@pytest.mark.parametrize(
    "question",
    [
        "and what about fathers?",
        "What about fathers?",
        "how about teenagers",
        "Also for teenagers",
        "same for Wales",
        "What did they recommend?",
        "what did reviews say about it?",
        "were those cases in Wales?",
    ],
)
def test_questions_that_refer_back(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    [
        "what did reviews say about bruising in non-mobile babies?",
        "neglect",
        "Andrew was the child in the review",  # "and" only as a word
        "butter and sugar in the diet of toddlers",  # "but" only as a word
        "how does this apply to domestic abuse, substance misuse, mental health and housing in families?",
    ],
)
def test_questions_that_stand_alone(question: str) -> None:
    assert not needs_context(question)


def test_topic_is_the_content_words_once_each_in_order() -> None:
    assert topic("What did reviews say about safe sleep, and safe sleep for fathers?") == "safe sleep fathers"
    assert topic("what did they say?") == ""


def test_standalone_wording_carries_the_earlier_topic() -> None:
    previous = ["what did reviews say about neglect?", "what did reviews say about bruising in non-mobile babies?"]
    assert standalone("  and what about fathers? ", previous) == "and what about fathers? (bruising non mobile babies)"


def test_standalone_is_none_when_nothing_needs_adding() -> None:
    assert standalone("and what about fathers?", []) is None
    assert standalone("what did reviews say about neglect?", [EARLIER]) is None
    assert standalone("what did they recommend?", ["what did they say?"]) is None, "no topic to carry over"


def generative(index: Settings, *replies: object) -> tuple[Casebook, FakeChat]:
    model = FakeChat(list(replies))  # type: ignore[arg-type]
    return Casebook(index.replace(llm="openai:fake"), embedder=FakeEmbedder(), chat_model=model), model


def test_the_model_rewrites_a_follow_up(fixture_index: Settings) -> None:
    rewritten = "What did reviews say about safe sleep advice for fathers?"
    cb, model = generative(fixture_index, f'"{rewritten}"\nI kept it short.', copying(1))
    answer = cb.ask("and what about fathers?", history=[EARLIER])
    assert answer.standalone_question == rewritten
    assert answer.question == "and what about fathers?"
    (message,) = model.received[0]
    assert isinstance(message, HumanMessage)
    assert f"Earlier question: {EARLIER}" in str(message.content)
    assert "Follow-up question: and what about fathers?" in str(message.content)
    assert f"Question: {rewritten}" in str(model.received[1][1].content), "the rewritten question is the one answered"
    assert len(model.received) == 2


@pytest.mark.parametrize("reply", [RuntimeError("connection refused"), "ok", "x" * 301, ""])
def test_a_failed_or_unusable_rewrite_falls_back_to_the_rules(fixture_index: Settings, reply: object) -> None:
    cb, model = generative(fixture_index, reply, copying(1))
    answer = cb.ask("and what about fathers?", history=[EARLIER])
    assert answer.standalone_question == "and what about fathers? (safe sleep)"
    assert len(model.received) == 2


def test_a_question_that_stands_alone_is_not_sent_for_rewriting(fixture_index: Settings) -> None:
    cb, model = generative(fixture_index, copying(1))
    answer = cb.ask("what did reviews say about bruising in non-mobile babies?", history=[EARLIER])
    assert answer.standalone_question is None
    assert len(model.received) == 1 and isinstance(model.received[0][0], SystemMessage), "the one call is the answer"


def test_without_a_model_the_rules_rewrite(fixture_index: Settings) -> None:
    cb = Casebook(fixture_index, embedder=FakeEmbedder())
    answer = cb.ask("and what about fathers?", history=[EARLIER])
    assert answer.standalone_question == "and what about fathers? (safe sleep)"
    assert not answer.refused
    assert cb.ask("and what about fathers?").standalone_question is None, "no history, nothing to refer back to"
