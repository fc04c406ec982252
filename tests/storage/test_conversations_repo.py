"""Conversations keep their turns in order with the chain's details, visible only to their partner."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from naa.errors import InputError, NotFoundError
from naa.safety.config import GuardrailConfig
from naa.storage.conversations import (
    PREVIEW_CHARS,
    add_human_turn,
    add_message,
    create_conversation,
    get_conversation,
    get_message,
    iter_conversations,
    list_conversations,
    list_messages,
)
from naa.storage.models import Role
from naa.storage.partners import create_partner, get_partner
from naa.storage.session import make_session_factory, session_scope


def test_messages_keep_order_and_chain_details(session: Session, two_partners: tuple[str, str]) -> None:
    conversation = create_conversation(session, "acme", channel="web")
    add_message(session, "acme", conversation.id, Role.CUSTOMER, "Where is my parcel?")
    reply = add_message(
        session,
        "acme",
        conversation.id,
        Role.ASSISTANT,
        "It ships in 2 days [1].",
        intent="track_order",
        intent_confidence=0.93,
        passages=[
            {"doc_id": "shipping", "chunk_id": "shipping-0", "score": 0.71, "text": "Ships in 2 days."}
        ],
        citations=[{"index": 1, "doc_id": "shipping", "title": "Shipping"}],
        latency_ms={"intent": 4.5, "retrieval": 2.0, "generation": 310.0},
    )
    session.expire_all()
    messages = list_messages(session, "acme", conversation.id)
    assert [(m.position, m.role) for m in messages] == [(0, Role.CUSTOMER), (1, Role.ASSISTANT)]
    stored = messages[1]
    assert stored.id == reply.id
    assert (stored.intent, stored.intent_confidence, stored.handoff) == ("track_order", 0.93, False)
    assert stored.passages[0]["chunk_id"] == "shipping-0"
    assert stored.citations == [{"index": 1, "doc_id": "shipping", "title": "Shipping"}]
    assert stored.latency_ms["generation"] == 310.0
    assert stored.created_at.tzinfo == UTC
    assert [m.id for m in get_conversation(session, "acme", conversation.id).messages] == [
        m.id for m in messages
    ]


def test_other_partner_cannot_read_or_write_a_conversation(
    session: Session, two_partners: tuple[str, str]
) -> None:
    conversation = create_conversation(session, "acme")
    message = add_message(session, "acme", conversation.id, Role.CUSTOMER, "hello")
    with pytest.raises(NotFoundError):
        get_conversation(session, "globex", conversation.id)
    with pytest.raises(NotFoundError):
        list_messages(session, "globex", conversation.id)
    with pytest.raises(NotFoundError):
        add_message(session, "globex", conversation.id, Role.AGENT, "injected")
    with pytest.raises(NotFoundError):
        get_message(session, "globex", message.id)
    assert get_message(session, "acme", message.id).content == "hello"
    assert len(list_messages(session, "acme", conversation.id)) == 1


def test_list_conversations_is_scoped_and_newest_first(
    session: Session, two_partners: tuple[str, str]
) -> None:
    first = create_conversation(session, "acme")
    second = create_conversation(session, "acme")
    create_conversation(session, "globex")
    assert [c.id for c, _, _ in list_conversations(session, "acme")] == [second.id, first.id]
    assert [c.id for c, _, _ in list_conversations(session, "acme", limit=1, offset=1)] == [first.id]


def test_listed_conversations_preview_their_first_customer_turn(
    session: Session, two_partners: tuple[str, str]
) -> None:
    empty = create_conversation(session, "acme")
    agent_first = create_conversation(session, "acme")
    add_message(session, "acme", agent_first.id, Role.AGENT, "Hello, how can I help?")
    add_message(session, "acme", agent_first.id, Role.CUSTOMER, "Where is my parcel?")
    add_message(session, "acme", agent_first.id, Role.CUSTOMER, "It is late.")
    long = create_conversation(session, "acme")
    add_message(session, "acme", long.id, Role.CUSTOMER, "x" * (PREVIEW_CHARS + 50))
    previews = {c.id: preview for c, preview, _ in list_conversations(session, "acme")}
    assert previews == {empty.id: "", agent_first.id: "Where is my parcel?", long.id: "x" * PREVIEW_CHARS}


def test_human_turns_are_screened_and_never_the_assistants(
    session: Session, two_partners: tuple[str, str]
) -> None:
    conversation = create_conversation(session, "acme", channel="console")
    guardrails = GuardrailConfig()

    def add(role: Role, content: str) -> str:
        turn = add_human_turn(
            session, "acme", conversation.id, role, content, guardrails=guardrails, max_chars=40
        )
        return turn.content

    assert add(Role.CUSTOMER, " card 4111111111111111 ") == "card [card number removed]"
    assert add(Role.AGENT, "Thanks, done.") == "Thanks, done."
    with pytest.raises(InputError, match="role must be customer or agent"):
        add(Role.ASSISTANT, "I am the bot")
    with pytest.raises(InputError, match="the agent message has 41 characters; the limit is 40"):
        add(Role.AGENT, "x" * 41)
    with pytest.raises(NotFoundError):
        add_human_turn(
            session, "globex", conversation.id, Role.AGENT, "hi", guardrails=guardrails, max_chars=40
        )
    assert [m.role for m in list_messages(session, "acme", conversation.id)] == [Role.CUSTOMER, Role.AGENT]


def test_turns_appended_at_the_same_moment_are_each_stored_once_in_order(engine: Engine) -> None:
    """Eight sessions append chat turns (a customer turn and its reply per transaction) to one conversation
    at once, as concurrent requests do: none fails or is lost, positions run 0..N-1, pairs stay together.
    """
    sessions = make_session_factory(engine)
    partner_id = f"race-{uuid.uuid4().hex[:8]}"  # committed rows: an id no other test uses
    with session_scope(sessions) as session:
        create_partner(session, partner_id, "Race")
        conversation_id = create_conversation(session, partner_id).id
    writers, steps = 8, 5
    start = threading.Barrier(writers)

    def append(writer: int) -> None:
        start.wait()
        for step in range(steps):
            with session_scope(sessions) as session:
                add_message(session, partner_id, conversation_id, Role.CUSTOMER, f"{writer}-{step}?")
                add_message(session, partner_id, conversation_id, Role.ASSISTANT, f"{writer}-{step}!")

    try:
        with ThreadPoolExecutor(writers) as pool:
            for future in [pool.submit(append, writer) for writer in range(writers)]:
                future.result()
        with session_scope(sessions) as session:
            stored = [(m.position, m.content) for m in list_messages(session, partner_id, conversation_id)]
    finally:
        with session_scope(sessions) as session:
            session.delete(get_partner(session, partner_id))  # its conversation and messages cascade

    assert [position for position, _ in stored] == list(range(writers * steps * 2))
    expected = {f"{w}-{s}{end}" for w in range(writers) for s in range(steps) for end in "?!"}
    assert sorted(content for _, content in stored) == sorted(expected)
    assert all(q[:-1] == a[:-1] for (_, q), (_, a) in zip(stored[::2], stored[1::2], strict=True))


def test_the_walk_over_all_conversations_pages_without_gaps_or_repeats(
    session: Session, two_partners: tuple[str, str]
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    created = []
    for minutes in (0, 1, 1, 1, 2):  # three share a time: the id orders them
        conversation = create_conversation(session, "acme")
        conversation.created_at = start + timedelta(minutes=minutes)
        add_message(session, "acme", conversation.id, Role.CUSTOMER, f"turn of {conversation.id}")
        created.append(conversation)
    create_conversation(session, "globex")
    session.flush()
    newest_first = sorted(created, key=lambda c: (-c.created_at.timestamp(), c.id))

    walked = []
    for page in iter_conversations(session, "acme", page_size=2):
        assert len(page) <= 2
        if not walked:  # started during the walk: newer than every page to come, so not in it
            create_conversation(session, "acme").created_at = start + timedelta(hours=1)
            session.flush()
        walked += [(c.id, [m.content for m in c.messages]) for c in page]

    assert walked == [(c.id, [f"turn of {c.id}"]) for c in newest_first]


def test_conversations_are_listed_by_channel_and_by_whether_they_were_handed_off(
    session: Session, two_partners: tuple[str, str]
) -> None:
    handed = create_conversation(session, "acme", channel="web")
    add_message(session, "acme", handed.id, Role.CUSTOMER, "I want to complain")
    add_message(session, "acme", handed.id, Role.ASSISTANT, "A colleague will take over.", handoff=True)
    answered = create_conversation(session, "acme", channel="web")
    add_message(session, "acme", answered.id, Role.ASSISTANT, "Refunds take 5 days.")
    console = create_conversation(session, "acme", channel="console")

    def listed(channel: str | None = None, handoff: bool | None = None) -> list[tuple[str, bool]]:
        found = list_conversations(session, "acme", channel=channel, handoff=handoff)
        return [(c.id, off) for c, _, off in found]

    assert listed() == [(console.id, False), (answered.id, False), (handed.id, True)]
    assert listed(channel="web") == [(answered.id, False), (handed.id, True)]
    assert listed(handoff=True) == [(handed.id, True)]
    assert listed(handoff=False, channel="web") == [(answered.id, False)]
    assert listed(channel="email") == []


def test_turns_keep_the_time_they_were_sent(session: Session, two_partners: tuple[str, str]) -> None:
    """A chat turn is stored with its reply, seconds after the customer sent it: it keeps the earlier time."""
    sent = datetime.now(UTC) - timedelta(seconds=30)
    conversation = create_conversation(session, "acme", created_at=sent)
    customer = add_message(session, "acme", conversation.id, Role.CUSTOMER, "hello", created_at=sent)
    reply = add_message(session, "acme", conversation.id, Role.ASSISTANT, "Hi!")
    session.expire_all()
    stored = get_conversation(session, "acme", conversation.id)
    assert stored.created_at == sent
    assert stored.messages[0].created_at == sent
    assert stored.messages[1].created_at > sent + timedelta(seconds=29)
    assert [m.id for m in stored.messages] == [customer.id, reply.id]
