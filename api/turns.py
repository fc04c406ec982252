"""A chat turn over a stored conversation: history in, the assistant's reply out, both turns saved.

The customer message and the reply are saved together, after the reply is complete, so a turn that fails
(bad input, a generator error, a client that disconnects mid-stream) leaves the conversation as it was; the
customer's turn keeps the time it arrived. Once the assistant has handed a conversation to a human, it does
not answer there again: people's turns go through ``POST /v1/conversations/{id}/messages``.
"""

import itertools
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from sse_starlette import ServerSentEvent

from api.metrics import Metrics
from api.schemas.assistant import CitationPublic, IntentPublic, PassagePublic
from api.schemas.chat import ChatCreate, ChatPublic, PassagesEventData, TokenEventData
from api.sse import event
from naa.assistant import Assistant, AssistantReply, DoneEvent, IntentEvent, PassagesEvent, TokenEvent
from naa.errors import HandedOffError
from naa.generation.base import ChatMessage, Role
from naa.storage import conversations
from naa.storage.models import Message, utcnow
from naa.storage.models import Role as StoredRole
from naa.storage.session import session_scope

ROLE_IN_PROMPT: dict[StoredRole, Role] = {
    StoredRole.CUSTOMER: "user",
    StoredRole.AGENT: "assistant",
    StoredRole.ASSISTANT: "assistant",
}


def history(session: Session, partner_id: str, conversation_id: str | None) -> list[ChatMessage]:
    """The stored turns of a conversation as prompt messages; raises NotFoundError for an unknown one."""
    if conversation_id is None:
        return []
    return _in_prompt(conversations.list_messages(session, partner_id, conversation_id))


def chat_history(session: Session, partner_id: str, conversation_id: str | None) -> list[ChatMessage]:
    """``history`` for the assistant's next turn in the conversation.

    Raises:
        HandedOffError: the assistant handed the conversation to a human in an earlier turn. A help desk
            routes it to an agent then; the assistant answering on would talk over that agent.
    """
    if conversation_id is None:
        return []
    stored = conversations.list_messages(session, partner_id, conversation_id)
    if any(m.role == StoredRole.ASSISTANT and m.handoff for m in stored):
        raise HandedOffError(
            f"conversation {conversation_id!r} was handed to a human agent, so the assistant no longer "
            f"answers in it: add the customer's turn with POST /v1/conversations/{conversation_id}/messages "
            "(POST /v1/suggest drafts the agent's reply), or start a new conversation"
        )
    return _in_prompt(stored)


def _in_prompt(stored: Sequence[Message]) -> list[ChatMessage]:
    return [ChatMessage(ROLE_IN_PROMPT[m.role], m.content) for m in stored]


def run_turn(
    sessions: sessionmaker[Session],
    session: Session,
    assistant: Assistant,
    partner_id: str,
    request: ChatCreate,
    metrics: Metrics,
) -> ChatPublic:
    """The whole turn; ``session`` is the request's, which ends here once the history is read."""
    received = utcnow()
    past = chat_history(session, partner_id, request.conversation_id)
    release(session)
    reply = assistant.respond([*past, ChatMessage("user", request.message)])
    metrics.observe_stages(reply.timings_ms)
    with session_scope(sessions) as saving:
        return _save(saving, partner_id, request, reply, received)


def release(session: Session) -> None:
    """End the request's transaction (it has only read) before the model runs, for seconds.

    Held through generation, 16 turns at once took every pooled PostgreSQL connection (15), and any
    other request waited for one (14 s, up to the pool's 30 s timeout and a 500). The session is not
    used again: the turn is saved in a transaction of its own, as a streamed turn is.
    """
    session.commit()


def stream_turn(
    sessions: sessionmaker[Session],
    past: Sequence[ChatMessage],
    assistant: Assistant,
    partner_id: str,
    request: ChatCreate,
    metrics: Metrics,
) -> Iterator[ServerSentEvent]:
    """Start the turn now (input errors raise here, while a 4xx can still be sent); stream the rest."""
    received = utcnow()
    events = assistant.respond_stream([*past, ChatMessage("user", request.message)])
    first = next(events)
    return _sse(itertools.chain([first], events), sessions, partner_id, request, metrics, received)


def _sse(
    events: Iterator[object],
    sessions: sessionmaker[Session],
    partner_id: str,
    request: ChatCreate,
    metrics: Metrics,
    received: datetime,
) -> Iterator[ServerSentEvent]:
    for item in events:
        if isinstance(item, IntentEvent):
            yield event("intent", IntentPublic.of(item.intent))
        elif isinstance(item, PassagesEvent):
            yield event("passages", PassagesEventData(passages=[PassagePublic.of(p) for p in item.passages]))
        elif isinstance(item, TokenEvent):
            yield event("token", TokenEventData(text=item.text))
        elif isinstance(item, DoneEvent):
            metrics.observe_stages(item.reply.timings_ms)
            # The request's own transaction ended when the route returned: the stream saves in its own.
            with session_scope(sessions) as session:
                saved = _save(session, partner_id, request, item.reply, received)
            yield event("done", saved)


def _save(
    session: Session, partner_id: str, request: ChatCreate, reply: AssistantReply, received: datetime
) -> ChatPublic:
    """Store the customer's turn, stamped ``received``, and the reply; a new conversation began then too."""
    conversation_id = (
        request.conversation_id
        or conversations.create_conversation(
            session, partner_id, request.channel or "api", created_at=received
        ).id
    )
    intent = IntentPublic.of(reply.intent)
    passages = [PassagePublic.of(p) for p in reply.passages]
    citations = [CitationPublic.of(c) for c in reply.citations]
    conversations.add_message(
        session,
        partner_id,
        conversation_id,
        StoredRole.CUSTOMER,
        reply.customer_message,  # card numbers masked by the partner's guardrails
        intent=intent.label,
        intent_confidence=intent.confidence,
        created_at=received,
    )
    stored = conversations.add_message(
        session,
        partner_id,
        conversation_id,
        StoredRole.ASSISTANT,
        reply.reply,
        intent=intent.label,
        intent_confidence=intent.confidence,
        passages=[p.model_dump() for p in passages],
        citations=[c.model_dump() for c in citations],
        handoff=reply.handoff,
        action=reply.action,
        latency_ms=reply.timings_ms,
    )
    return ChatPublic(
        conversation_id=conversation_id,
        message_id=stored.id,
        intent=intent,
        reply=reply.reply,
        citations=citations,
        passages=passages,
        handoff=reply.handoff,
        action=reply.action,
        timings_ms=reply.timings_ms,
        finish_reason=reply.usage.finish_reason if reply.usage else "stop",
    )
