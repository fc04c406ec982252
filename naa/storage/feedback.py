"""Agents' and customers' ratings of assistant replies: the raw material for evaluation and training."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from naa.errors import InputError
from naa.safety.config import GuardrailConfig
from naa.safety.guardrails import mask_cards
from naa.storage.conversations import get_message
from naa.storage.models import Feedback, Rating, Role


def add_feedback(
    session: Session,
    partner_id: str,
    message_id: str,
    rating: Rating,
    *,
    comment: str | None = None,
    corrected_reply: str | None = None,
    guardrails: GuardrailConfig,
) -> Feedback:
    """Rate an assistant message of this partner's conversations; another partner's message is not found.

    The comment and the corrected reply are people's text like a chat turn: card numbers are masked
    before they are stored.

    Raises:
        NotFoundError: no such message in this partner's conversations.
        InputError: the message is a customer's or a human agent's turn, not the assistant's reply.
    """
    message = get_message(session, partner_id, message_id)
    if message.role != Role.ASSISTANT:
        # A rating of a person's turn would be read as one of the assistant's replies when training on it.
        raise InputError(
            f"message_id: message {message_id!r} is a {message.role.value} turn; feedback rates the "
            "assistant's replies (the message_id of a /v1/chat reply or an assistant turn)"
        )
    row = Feedback(
        partner_id=partner_id,
        message_id=message.id,
        rating=Rating(rating),
        comment=None if comment is None else mask_cards(comment, guardrails),
        corrected_reply=None if corrected_reply is None else mask_cards(corrected_reply, guardrails),
    )
    session.add(row)
    session.flush()
    return row


def list_feedback(
    session: Session, partner_id: str, *, rating: Rating | None = None, limit: int = 100, offset: int = 0
) -> list[Feedback]:
    """Newest first."""
    query = select(Feedback).where(Feedback.partner_id == partner_id)
    if rating is not None:
        query = query.where(Feedback.rating == rating)
    query = query.order_by(Feedback.created_at.desc(), Feedback.id).limit(limit).offset(offset)
    return list(session.scalars(query))
