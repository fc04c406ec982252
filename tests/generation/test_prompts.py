"""Prompt building and citation extraction on hand-made passages."""

import pytest

from naa.errors import InputError
from naa.generation import ChatMessage, Citation, build_messages, extract_citations
from naa.retrieval.base import Passage

PASSAGES = [
    Passage(
        "refunds", "refunds#0", "Refunds are paid within 5 business days.", 0.8, "Refund policy", "kb", "/r"
    ),
    Passage(
        "shipping", "shipping#2", "Standard delivery takes 3 to 5 days.", 0.7, "Shipping times", "kb", "/s"
    ),
    Passage("untitled", "untitled#0", "Gift cards never expire.", 0.5),
]


def test_passages_are_numbered_before_the_last_question() -> None:
    conversation = [
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello! How can I help?"),
        ChatMessage("user", "When do I get my refund?"),
    ]
    messages = build_messages("Answer from the passages.", PASSAGES, conversation)
    assert messages[0] == ChatMessage("system", "Answer from the passages.")
    assert messages[1:3] == conversation[:2]
    last = messages[-1]
    assert last.role == "user"
    assert last.content.index("[1] Refund policy") < last.content.index("[2] Shipping times")
    assert "[3] untitled\nGift cards never expire." in last.content  # no title: the doc id stands in
    assert last.content.endswith("Question: When do I get my refund?")


def test_without_passages_the_conversation_is_passed_as_is() -> None:
    conversation = [ChatMessage("user", "Thanks!")]
    assert build_messages("Be kind.", [], conversation) == [
        ChatMessage("system", "Be kind."),
        conversation[0],
    ]


def test_long_passages_are_cut_at_a_word_boundary() -> None:
    long = Passage("terms", "terms#0", "word " * 500, 0.9, "Terms")
    content = build_messages("S", [long], [ChatMessage("user", "q")], max_passage_chars=100)[-1].content
    body = content.split("\n")[2]
    assert len(body) <= 102
    assert body.endswith("word …")


def test_only_recent_history_is_kept() -> None:
    conversation = [ChatMessage("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(9)]
    messages = build_messages("S", [], conversation, max_history_messages=2)
    assert [m.content for m in messages] == ["S", "turn 6", "turn 7", "turn 8"]


@pytest.mark.parametrize("conversation", [[], [ChatMessage("assistant", "Hello")]])
def test_conversation_must_end_with_the_customer(conversation: list[ChatMessage]) -> None:
    with pytest.raises(InputError, match="user message"):
        build_messages("S", PASSAGES, conversation)


def test_citations_follow_first_mention_and_ignore_unknown_numbers() -> None:
    reply = "Refunds take 5 days [2]. Delivery [1, 2] takes 3-5 days [7]. Again [2][0]."
    assert extract_citations(reply, PASSAGES) == [
        Citation(number=2, doc_id="shipping", title="Shipping times", url="/s", source="kb"),
        Citation(number=1, doc_id="refunds", title="Refund policy", url="/r", source="kb"),
    ]


def test_reply_without_markers_cites_nothing() -> None:
    assert extract_citations("I don't know, shall I connect you with an agent?", PASSAGES) == []
