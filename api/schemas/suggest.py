"""``POST /v1/suggest``: agent assist, candidate replies for a human agent to pick or edit."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.assistant import CitationPublic, IntentPublic
from api.schemas.conversations import TurnCreate
from api.schemas.request import RequestBody
from naa.assistant import AssistantReply
from naa.generation.base import ChatMessage


class SuggestCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"role": "customer", "content": "Hi, my parcel is late."},
                        {"role": "agent", "content": "Sorry to hear that! What is your order number?"},
                        {"role": "customer", "content": "A1001. Can I get a refund for the shipping?"},
                    ],
                    "n": 3,
                },
                {"conversation_id": "7f0c2d9b6a0e4a51b0e3c1d2e3f4a5b6", "n": 3},
            ]
        },
    )

    messages: list[TurnCreate] | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The conversation so far; the last turn is the customer's. Or send conversation_id.",
    )
    conversation_id: str | None = Field(
        None,
        description="Suggest for this stored conversation (its last turn is the customer's) instead of "
        "sending messages.",
    )
    n: int = Field(3, ge=1, le=3, strict=True, description="How many suggestions, at most.")

    @model_validator(mode="after")
    def _one_source(self) -> "SuggestCreate":
        if (self.messages is None) == (self.conversation_id is None):
            raise ValueError("send either messages or conversation_id, not both or neither")
        return self

    def conversation(self) -> list[ChatMessage]:
        """The turns sent; the customer is the prompt's user, the human agent speaks as the assistant."""
        return [
            ChatMessage("user" if m.role == "customer" else "assistant", m.content)
            for m in self.messages or []
        ]


class SuggestionPublic(BaseModel):
    reply: str
    citations: list[CitationPublic]
    action: Literal["answer", "smalltalk", "clarify", "handoff", "no_answer"]
    handoff: bool

    @classmethod
    def of(cls, reply: AssistantReply) -> "SuggestionPublic":
        citations = [CitationPublic.of(c) for c in reply.citations]
        return cls(reply=reply.reply, citations=citations, action=reply.action, handoff=reply.handoff)


class SuggestPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "intent": {
                        "label": "refund_request",
                        "confidence": 0.84,
                        "out_of_scope": False,
                        "top": [],
                    },
                    "suggestions": [
                        {
                            "reply": "Late deliveries get a shipping refund on request [1].",
                            "citations": [
                                {
                                    "number": 1,
                                    "doc_id": "late-deliveries",
                                    "title": "Late deliveries",
                                    "url": "",
                                    "source": "shipping/late-deliveries.md",
                                }
                            ],
                            "action": "answer",
                            "handoff": False,
                        }
                    ],
                }
            ]
        }
    )

    intent: IntentPublic
    suggestions: list[SuggestionPublic] = Field(
        ..., description="Distinct candidates, the assistant's own first."
    )

    @classmethod
    def of(cls, replies: list[AssistantReply]) -> "SuggestPublic":
        return cls(
            intent=IntentPublic.of(replies[0].intent), suggestions=[SuggestionPublic.of(r) for r in replies]
        )
