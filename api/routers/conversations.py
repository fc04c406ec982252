"""Stored conversations of the caller's partner: list, detail, export."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import PartnerDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas.conversations import ConversationPublic, ConversationsExport, ConversationsPublic
from naa.storage import conversations

router = APIRouter(prefix="/v1/conversations", tags=["conversations"], responses=ERROR_RESPONSES)

# The export holds every conversation in one response; past this many, page through the list instead.
EXPORT_LIMIT = 10_000


@router.get("", summary="List conversations")
def list_conversations(
    caller: PartnerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConversationsPublic:
    """The partner's conversations, newest first."""
    found = conversations.list_conversations(session, caller.partner_id, limit=limit, offset=offset)
    return ConversationsPublic.model_validate({"conversations": found}, from_attributes=True)


@router.get("/export", summary="Export conversations as JSON", response_model=ConversationsExport)
def export_conversations(caller: PartnerDep, session: SessionDep) -> JSONResponse:
    """Every conversation with its messages, as a JSON file download (newest first)."""
    found = conversations.list_conversations(session, caller.partner_id, limit=EXPORT_LIMIT)
    export = ConversationsExport.model_validate(
        {"partner_id": caller.partner_id, "exported_at": datetime.now(UTC), "conversations": found},
        from_attributes=True,
    )
    filename = f"conversations-{caller.partner_id}.json"
    return JSONResponse(
        export.model_dump(mode="json"), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/{conversation_id}", summary="Get a conversation")
def get_conversation(conversation_id: str, caller: PartnerDep, session: SessionDep) -> ConversationPublic:
    """A conversation with its messages in turn order: intent, citations, passages and latency per turn."""
    return ConversationPublic.model_validate(
        conversations.get_conversation(session, caller.partner_id, conversation_id)
    )
