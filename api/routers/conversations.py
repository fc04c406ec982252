"""Stored conversations of the caller's partner: start one and add people's turns; list, detail, export."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from sqlalchemy.orm import Session, sessionmaker

from api.auth import KeyFirstRoute
from api.deps import PartnerConfigDep, PartnerDep, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.paging import Limit, Offset
from api.schemas.conversations import (
    ConversationCreate,
    ConversationPublic,
    ConversationsExport,
    ConversationsPublic,
    ConversationSummary,
    MessagePublic,
    TurnCreate,
)
from naa.storage import conversations
from naa.storage.models import Role

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1/conversations", tags=["conversations"], responses=ERROR_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Start a conversation")
def create_conversation(
    caller: PartnerDep,
    session: SessionDep,
    body: Annotated[ConversationCreate, Body()] = ConversationCreate(),
) -> ConversationPublic:
    """An empty conversation to add customer and agent turns to (agent assist); the body is optional."""
    return ConversationPublic.model_validate(
        conversations.create_conversation(session, caller.partner_id, channel=body.channel)
    )


@router.post(
    "/{conversation_id}/messages", status_code=status.HTTP_201_CREATED, summary="Add a customer or agent turn"
)
def add_turn(
    conversation_id: str,
    body: TurnCreate,
    caller: PartnerDep,
    session: SessionDep,
    config: PartnerConfigDep,
    state: StateDep,
) -> MessagePublic:
    """Store a person's turn at the end of the conversation, checked and masked as a /v1/chat message is.

    The assistant's own turns are stored by /v1/chat, so the role is customer or agent.
    """
    message = conversations.add_human_turn(
        session,
        caller.partner_id,
        conversation_id,
        Role(body.role),
        body.content,
        guardrails=config.guardrails,
        max_chars=state.settings.max_message_chars,
    )
    return MessagePublic.model_validate(message)


@router.get("", summary="List conversations")
def list_conversations(
    caller: PartnerDep,
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    channel: Annotated[str | None, Query(max_length=32, description="Only this channel's.")] = None,
    handoff: Annotated[
        bool | None,
        Query(description="Only those handed to a human agent (true), or only those not (false)."),
    ] = None,
) -> ConversationsPublic:
    """The partner's conversations, newest first; `channel` and `handoff` keep those that match."""
    found = conversations.list_conversations(
        session, caller.partner_id, limit=limit, offset=offset, channel=channel, handoff=handoff
    )
    return ConversationsPublic(
        conversations=[
            ConversationSummary(
                id=c.id, channel=c.channel, created_at=c.created_at, preview=preview, handoff=off
            )
            for c, preview, off in found
        ]
    )


@router.get(
    "/export",
    summary="Export conversations as JSON",
    response_model=ConversationsExport,
)
def export_conversations(caller: PartnerDep, state: StateDep) -> StreamingResponse:
    """Every conversation with its messages, newest first, as a JSON file download.

    Streamed a page of conversations at a time, so an export of any size starts at once and holds one
    page in the server's memory.
    """
    filename = f"conversations-{caller.partner_id}.json"
    return StreamingResponse(
        _export_json(state.sessions, caller.partner_id),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export_json(sessions: sessionmaker[Session], partner_id: str) -> Iterator[bytes]:
    """A ``ConversationsExport`` document, written a page of conversations at a time."""
    exported_at = TypeAdapter(datetime).dump_json(datetime.now(UTC))
    yield b'{"partner_id":%b,"exported_at":%b,"conversations":[' % (
        json.dumps(partner_id).encode(),
        exported_at,
    )
    separator = b""
    with sessions() as session:
        for page in conversations.iter_conversations(session, partner_id):
            # The page is loaded and the client reads at its own pace: the connection goes back to the pool
            # until the next page. Held for the whole download, 15 slow exports took every pooled
            # connection, and any other request then waited 30 s for one and failed.
            session.rollback()
            yield separator + b",".join(
                ConversationPublic.model_validate(c).model_dump_json().encode() for c in page
            )
            separator = b","
    yield b"]}"


@router.get("/{conversation_id}", summary="Get a conversation")
def get_conversation(conversation_id: str, caller: PartnerDep, session: SessionDep) -> ConversationPublic:
    """A conversation with its messages in turn order: intent, citations, passages and latency per turn."""
    return ConversationPublic.model_validate(
        conversations.get_conversation(session, caller.partner_id, conversation_id)
    )
