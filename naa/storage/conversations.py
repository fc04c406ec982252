"""Conversations and their messages, scoped to one partner.

Messages carry no partner id of their own: every read goes through the conversation, so a message id
from another partner is simply not found. The assistant's turns are stored with their chain details by the
chat turn (``add_message``); people's turns written outside it (agent assist) go through ``add_human_turn``,
which screens them as a chat turn is screened.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from naa.errors import InputError, NotFoundError
from naa.safety.config import GuardrailConfig
from naa.safety.guardrails import screen_message
from naa.storage.models import Conversation, Message, Role
from naa.storage.session import lock_row

# The assistant's turns come only from the assistant, with the intent and citations it answered from.
HUMAN_ROLES = (Role.CUSTOMER, Role.AGENT)


def create_conversation(
    session: Session, partner_id: str, channel: str = "api", *, created_at: datetime | None = None
) -> Conversation:
    """A conversation without turns; ``created_at`` (aware) when it began earlier than now."""
    conversation = Conversation(partner_id=partner_id, channel=channel)
    if created_at is not None:
        conversation.created_at = created_at
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, partner_id: str, conversation_id: str) -> Conversation:
    query = select(Conversation).where(
        Conversation.id == conversation_id, Conversation.partner_id == partner_id
    )
    conversation = session.scalar(query)
    if conversation is None:
        raise NotFoundError(f"conversation {conversation_id!r} does not exist")
    return conversation


def handed_off() -> ColumnElement[bool]:
    """True for a conversation with an assistant turn that handed it to a human: people answer it now."""
    return exists().where(
        Message.conversation_id == Conversation.id, Message.role == Role.ASSISTANT, Message.handoff.is_(True)
    )


# The conversation list shows the start of each conversation's first customer turn.
PREVIEW_CHARS = 120


def list_conversations(
    session: Session,
    partner_id: str,
    *,
    limit: int = 50,
    offset: int = 0,
    channel: str | None = None,
    handoff: bool | None = None,
) -> list[tuple[Conversation, str, bool]]:
    """Newest first, each with the start of its first customer turn ("" when it has none) and whether it
    was handed off: one query. ``channel`` and ``handoff`` keep only the conversations that match."""
    first_customer_turn = (
        select(func.substr(Message.content, 1, PREVIEW_CHARS))
        .where(Message.conversation_id == Conversation.id, Message.role == Role.CUSTOMER)
        .order_by(Message.position)
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    newest_first = (Conversation.created_at.desc(), Conversation.id)
    page = select(Conversation.id).where(Conversation.partner_id == partner_id)
    if channel is not None:
        page = page.where(Conversation.channel == channel)
    if handoff is not None:
        page = page.where(handed_off() if handoff else ~handed_off())
    # The page's ids first, then its previews: computed for every row skipped, they took PostgreSQL 0.2 s
    # at offset 17,000.
    page_ids = page.order_by(*newest_first).limit(limit).offset(offset).subquery()
    query = (
        select(Conversation, func.coalesce(first_customer_turn, ""), handed_off())
        .join(page_ids, Conversation.id == page_ids.c.id)
        .order_by(*newest_first)
    )
    return [(conversation, preview, bool(off)) for conversation, preview, off in session.execute(query)]


def iter_conversations(
    session: Session, partner_id: str, *, page_size: int = 200
) -> Iterator[list[Conversation]]:
    """Every conversation of the partner with its messages, newest first, a page at a time.

    Pages follow on from the last conversation seen, not from an offset, so a conversation started
    during the walk neither shifts a later page nor appears twice. Each page's objects leave the session
    before the page is yielded, so the walk holds one page in memory whatever the partner's history, and
    the caller may end its transaction while it writes a page out (the next page begins a new one).
    """
    query = (
        select(Conversation)
        .where(Conversation.partner_id == partner_id)
        .options(selectinload(Conversation.messages))
        .order_by(Conversation.created_at.desc(), Conversation.id)
        .limit(page_size)
    )
    page = list(session.scalars(query))
    while page:
        last_created_at, last_id = page[-1].created_at, page[-1].id
        session.expunge_all()
        yield page
        after_last = or_(
            Conversation.created_at < last_created_at,
            and_(Conversation.created_at == last_created_at, Conversation.id > last_id),
        )
        page = list(session.scalars(query.where(after_last)))


def add_message(
    session: Session,
    partner_id: str,
    conversation_id: str,
    role: Role,
    content: str,
    *,
    intent: str | None = None,
    intent_confidence: float | None = None,
    passages: Sequence[Mapping[str, Any]] = (),
    citations: Sequence[Mapping[str, Any]] = (),
    handoff: bool = False,
    action: str | None = None,
    latency_ms: Mapping[str, float] | None = None,
    created_at: datetime | None = None,
) -> Message:
    """Append a turn; passages and citations are JSON-able mappings (the API's response schemas dumped).

    ``created_at`` (aware) is when the turn was sent, when that was before now: a customer's message
    stored with the reply that took seconds to write.

    Another append to the same conversation waits until this transaction ends, so commit soon after.
    """
    conversation = get_conversation(session, partner_id, conversation_id)
    lock_row(session, Conversation.channel, conversation.id)  # no other append reads the same count
    count = session.scalar(select(func.count()).where(Message.conversation_id == conversation.id)) or 0
    message = Message(
        conversation_id=conversation.id,
        position=count,
        role=Role(role),
        content=content,
        intent=intent,
        intent_confidence=intent_confidence,
        passages=[dict(p) for p in passages],
        citations=[dict(c) for c in citations],
        handoff=handoff,
        action=action,
        latency_ms=dict(latency_ms or {}),
    )
    if created_at is not None:
        message.created_at = created_at
    session.add(message)
    session.flush()
    return message


def add_human_turn(
    session: Session,
    partner_id: str,
    conversation_id: str,
    role: Role,
    content: str,
    *,
    guardrails: GuardrailConfig,
    max_chars: int,
) -> Message:
    """Append a customer's or human agent's turn, stripped and with card numbers masked.

    Raises:
        InputError: ``role`` is the assistant's, or the text is empty or longer than ``max_chars``.
        NotFoundError: the conversation is unknown or another partner's.
    """
    if role not in HUMAN_ROLES:
        allowed = " or ".join(r.value for r in HUMAN_ROLES)
        raise InputError(f"a {role.value} turn cannot be added by hand; the role must be {allowed}")
    text = screen_message(content, guardrails, max_chars, speaker=role.value)
    return add_message(session, partner_id, conversation_id, role, text)


def list_messages(session: Session, partner_id: str, conversation_id: str) -> list[Message]:
    """The turns in order; raises NotFoundError for another partner's conversation."""
    get_conversation(session, partner_id, conversation_id)
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.position)
    return list(session.scalars(query))


def get_message(session: Session, partner_id: str, message_id: str) -> Message:
    query = (
        select(Message)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(Message.id == message_id, Conversation.partner_id == partner_id)
    )
    message = session.scalar(query)
    if message is None:
        raise NotFoundError(f"message {message_id!r} does not exist")
    return message
