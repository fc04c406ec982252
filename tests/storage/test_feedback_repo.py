"""Feedback attaches to a partner's own messages only."""

import pytest
from sqlalchemy.orm import Session

from naa.errors import NotFoundError
from naa.safety.config import GuardrailConfig
from naa.storage.conversations import add_message, create_conversation
from naa.storage.feedback import add_feedback, list_feedback
from naa.storage.models import Rating, Role

GUARDRAILS = GuardrailConfig()


def test_feedback_on_own_message_is_listed(session: Session, two_partners: tuple[str, str]) -> None:
    conversation = create_conversation(session, "acme")
    reply = add_message(session, "acme", conversation.id, Role.ASSISTANT, "Refunds take 5 days [1].")
    add_feedback(session, "acme", reply.id, Rating.UP, guardrails=GUARDRAILS)
    add_feedback(
        session,
        "acme",
        reply.id,
        Rating.DOWN,
        comment="wrong, I paid with 4111 1111 1111 1111",
        corrected_reply="Refunds take 3 days [1].",
        guardrails=GUARDRAILS,
    )
    down = list_feedback(session, "acme", rating=Rating.DOWN)
    assert [(f.comment, f.corrected_reply) for f in down] == [
        ("wrong, I paid with [card number removed]", "Refunds take 3 days [1].")
    ]
    assert len(list_feedback(session, "acme")) == 2


def test_feedback_on_another_partners_message_is_not_found(
    session: Session, two_partners: tuple[str, str]
) -> None:
    conversation = create_conversation(session, "acme")
    reply = add_message(session, "acme", conversation.id, Role.ASSISTANT, "hello")
    with pytest.raises(NotFoundError):
        add_feedback(session, "globex", reply.id, Rating.DOWN, guardrails=GUARDRAILS)
    assert list_feedback(session, "globex") == []
