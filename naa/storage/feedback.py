"""Agents' and customers' ratings of assistant replies: the raw material for evaluation and training."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from naa.safety.config import GuardrailConfig
from naa.safety.guardrails import mask_cards
from naa.storage.conversations import get_message
from naa.storage.models import Feedback, Rating


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
    """Rate a message of this partner's conversations; another partner's message is not found.

    The comment and the corrected reply are people's text like a chat turn: card numbers are masked
    before they are stored.
    """
    message = get_message(session, partner_id, message_id)
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
    session: Session, partner_id: str, *, rating: Rating | None = None, limit: int = 100
) -> list[Feedback]:
    """Newest first."""
    query = select(Feedback).where(Feedback.partner_id == partner_id)
    if rating is not None:
        query = query.where(Feedback.rating == rating)
    return list(session.scalars(query.order_by(Feedback.created_at.desc(), Feedback.id).limit(limit)))
