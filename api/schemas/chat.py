"""``POST /v1/chat``: one customer turn in a stored conversation."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from api.schemas.assistant import CitationPublic, IntentPublic, PassagePublic
from api.schemas.conversations import Channel
from api.schemas.request import RequestBody
from naa.assistant import Action

_REPLY_EXAMPLE: JsonDict = {
    "conversation_id": "7f0c2d9b6a0e4a51b0e3c1d2e3f4a5b6",
    "message_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "intent": {"label": "refund_status", "confidence": 0.91, "out_of_scope": False, "top": []},
    "reply": "Refunds reach your card within 5 business days [1].",
    "citations": [{"number": 1, "doc_id": "refunds", "title": "Refunds", "url": "", "source": "refunds.md"}],
    "passages": [],
    "handoff": False,
    "action": "answer",
    "timings_ms": {"intent": 6.1, "retrieval": 3.2, "generation": 812.4, "total": 822.0},
    "finish_reason": "stop",
}


class ChatCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "How long does a refund take?"},
                {
                    "conversation_id": "7f0c2d9b6a0e4a51b0e3c1d2e3f4a5b6",
                    "message": "And to a PayPal account?",
                },
                {"message": "Where is my parcel?", "stream": True},
                {"message": "Hello, my tent pole broke", "channel": "console"},
            ]
        },
    )

    message: str = Field(..., min_length=1, description="The customer's message.")
    conversation_id: str | None = Field(
        None, description="Continue this conversation (its history is used); a new one is started when unset."
    )
    channel: Channel | None = Field(
        None,
        description="The channel of the conversation this turn starts (default api), e.g. console; only "
        "without conversation_id. A turn that fails stores nothing, its new conversation included.",
    )
    # strict, as in the OpenAI route: lax mode reads "yes" and 1 as true
    stream: bool = Field(
        False,
        strict=True,
        description="Answer as Server-Sent Events: intent, passages, token (repeated), done.",
    )

    @model_validator(mode="after")
    def _channel_only_for_a_new_conversation(self) -> Self:
        if self.channel is not None and self.conversation_id is not None:
            raise ValueError(
                "channel applies to the conversation a turn starts: remove it or conversation_id"
            )
        return self


class ChatPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REPLY_EXAMPLE]})

    conversation_id: str
    message_id: str = Field(
        ..., description="The stored assistant message; send feedback about it by this id."
    )
    intent: IntentPublic
    reply: str
    citations: list[CitationPublic]
    passages: list[PassagePublic] = Field(..., description="What retrieval found, cited or not.")
    handoff: bool = Field(..., description="True when the turn should go to a human agent.")
    action: Action
    timings_ms: dict[str, float] = Field(
        ..., description="Milliseconds per stage: intent, retrieval, generation, total."
    )
    finish_reason: Literal["stop", "length"] = Field(
        "stop",
        description="'length' when the reply stopped at the partner's token limit (max_new_tokens) and may "
        "end mid-sentence, as in OpenAI's API.",
    )


class PassagesEventData(BaseModel):
    """The data of the ``passages`` event: what retrieval found, before generation starts."""

    passages: list[PassagePublic]


class TokenEventData(BaseModel):
    """The data of each ``token`` event: the next piece of the reply."""

    text: str
