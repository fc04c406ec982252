"""Feedback attaches to a partner's own messages only."""

import pytest
from sqlalchemy.orm import Session

from naa.errors import InputError, NotFoundError
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
    oldest = list_feedback(session, "acme")[1]
    # Past the first page: a partner's feedback is read in full, not only its newest `limit` rows.
    assert [f.id for f in list_feedback(session, "acme", limit=1, offset=1)] == [oldest.id]
    assert list_feedback(session, "acme", offset=2) == []


def test_feedback_on_another_partners_message_is_not_found(
    session: Session, two_partners: tuple[str, str]
) -> None:
    conversation = create_conversation(session, "acme")
    reply = add_message(session, "acme", conversation.id, Role.ASSISTANT, "hello")
    with pytest.raises(NotFoundError):
        add_feedback(session, "globex", reply.id, Rating.DOWN, guardrails=GUARDRAILS)
    assert list_feedback(session, "globex") == []


def test_feedback_on_a_customer_or_agent_turn_is_refused(
    session: Session, two_partners: tuple[str, str]
) -> None:
    conversation = create_conversation(session, "acme")
    for role in (Role.CUSTOMER, Role.AGENT):
        turn = add_message(session, "acme", conversation.id, role, "hello")
        with pytest.raises(
            InputError, match=f"is a {role.value} turn; feedback rates the assistant's replies"
        ):
            add_feedback(session, "acme", turn.id, Rating.DOWN, guardrails=GUARDRAILS)
    assert list_feedback(session, "acme") == []
