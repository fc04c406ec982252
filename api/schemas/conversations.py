"""Stored conversations: start one, add people's turns, list, detail, export."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.config import JsonDict

from api.schemas.request import RequestBody
from naa.assistant import Action
from naa.storage.models import Role

_MESSAGE_EXAMPLE: JsonDict = {
    "id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "role": "assistant",
    "content": "Refunds reach your card within 5 business days [1].",
    "intent": "refund_status",
    "intent_confidence": 0.91,
    "citations": [{"number": 1, "doc_id": "refunds", "title": "Refunds", "url": "", "source": "refunds.md"}],
    "passages": [],
    "handoff": False,
    "action": "answer",
    "latency_ms": {"intent": 6.1, "retrieval": 3.2, "generation": 812.4, "total": 822.0},
    "created_at": "2026-11-27T09:00:00Z",
}


# Where a conversation takes place (lowercase, e.g. console, web, email); shown in the list.
Channel = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]


class ConversationCreate(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"channel": "console"}]})

    channel: Channel = Field(
        "api",
        description="Where the conversation takes place (lowercase, e.g. console, web, email); "
        "shown in the list. /v1/chat starts its conversations as api unless it is given one.",
    )


class TurnCreate(RequestBody):
    """A person's turn: the customer's message, or the reply a human agent sent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "customer", "content": "Hi, my parcel is late."},
                {"role": "agent", "content": "Sorry to hear that! What is your order number?"},
            ]
        },
    )

    role: Literal["customer", "agent"] = Field(
        ..., description="Who wrote the message; assistant turns come only from /v1/chat."
    )
    content: str = Field(
        ..., min_length=1, description="Stored stripped, card numbers masked; no longer than a chat message."
    )


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_MESSAGE_EXAMPLE]})

    id: str = Field(..., description="Send feedback about an assistant message by this id.")
    role: Role
    content: str
    intent: str | None
    intent_confidence: float | None
    citations: list[dict[str, Any]]
    passages: list[dict[str, Any]]
    handoff: bool
    action: Action | None = Field(
        ...,
        description="What an assistant turn did; null for people's turns (and turns stored before it was).",
    )
    latency_ms: dict[str, float]
    created_at: datetime


_HANDOFF = (
    "True once an assistant turn handed the conversation to a human agent: the assistant no longer answers "
    "in it (/v1/chat is a 409 `handed_off`); people's turns go through POST .../messages."
)


class _ConversationFields(BaseModel):
    id: str
    channel: str
    created_at: datetime = Field(..., description="When its first turn arrived (UTC).")


_SUMMARY_EXAMPLE: JsonDict = {
    "id": "7f0c2d9b6a0e4a51b0e3c1d2e3f4a5b6",
    "channel": "api",
    "created_at": "2026-11-27T09:00:00Z",
    "preview": "Hi, my parcel is late.",
    "handoff": False,
}


class ConversationSummary(_ConversationFields):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    preview: str = Field(
        ...,
        description="The first customer turn's first 120 characters, to tell conversations apart; "
        '"" when the conversation has no customer turn yet.',
    )
    handoff: bool = Field(..., description=_HANDOFF)


class ConversationsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"conversations": [_SUMMARY_EXAMPLE]}]})

    conversations: list[ConversationSummary] = Field(..., description="Newest first.")


class ConversationPublic(_ConversationFields):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7f0c2d9b6a0e4a51b0e3c1d2e3f4a5b6",
                    "channel": "api",
                    "created_at": "2026-11-27T09:00:00Z",
                    "messages": [_MESSAGE_EXAMPLE],
                    "handoff": False,
                }
            ]
        },
    )

    messages: list[MessagePublic] = Field(..., description="In turn order.")

    @computed_field(description=_HANDOFF)  # type: ignore[prop-decorator]
    @property
    def handoff(self) -> bool:
        return any(m.role == Role.ASSISTANT and m.handoff for m in self.messages)


class ConversationsExport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partner_id": "tamberlow", "exported_at": "2026-11-27T10:00:00Z", "conversations": []}
            ]
        }
    )

    partner_id: str
    exported_at: datetime
    conversations: list[ConversationPublic]
