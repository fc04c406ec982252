"""Prompt building and citation extraction on hand-made passages."""

import pytest

from naa.errors import InputError
from naa.generation import (
    ChatMessage,
    Citation,
    build_messages,
    extract_citations,
    stream_without_unknown_markers,
    without_unknown_markers,
)
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


@pytest.mark.parametrize(
    ("reply", "cleaned"),
    [
        ("Ships in 3-5 days [2] [4].", "Ships in 3-5 days [2]."),
        ("[4] No, you cannot return it [1].", "No, you cannot return it [1]."),
        ("Costs $5 [9] per parcel [1,2] or [2, 7].", "Costs $5 per parcel [1,2] or [2]."),
        ("Never expire [3][5].", "Never expire [3]."),
        ("Nothing to change [1, 2, 3].", "Nothing to change [1, 2, 3]."),
    ],
)
def test_markers_naming_no_passage_are_taken_out(reply: str, cleaned: str) -> None:
    # They stayed in the reply (and in the stored message): "[4]" beside three passages.
    assert without_unknown_markers(reply, PASSAGES) == cleaned


@pytest.mark.parametrize(
    "reply",
    [
        "Ships in 3-5 days [2] [4].",
        "[4] No, you cannot return it [1].",
        "Costs $5 [9] per parcel [1,2] or [2, 7].",
        "Never expire [3][5]. A [note] and [1",
    ],
)
def test_a_streamed_reply_joins_to_the_cleaned_reply_however_it_is_cut(reply: str) -> None:
    cleaned = without_unknown_markers(reply, PASSAGES)
    for size in (1, 2, 3, 5, len(reply)):
        pieces = [reply[i : i + size] for i in range(0, len(reply), size)]
        assert "".join(stream_without_unknown_markers(pieces, PASSAGES)) == cleaned, size
