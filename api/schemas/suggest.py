"""``POST /v1/suggest``: agent assist, candidate replies for a human agent to pick or edit."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.assistant import CitationPublic, IntentPublic
from naa.assistant import AssistantReply
from naa.generation.base import ChatMessage


class TurnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["customer", "agent"] = Field(..., description="Who wrote the message.")
    content: str = Field(..., min_length=1)


class SuggestCreate(BaseModel):
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
                }
            ]
        },
    )

    messages: list[TurnCreate] = Field(
        ...,
        min_length=1,
        max_length=200,
        description="The conversation so far; the last turn is the customer's.",
    )
    n: int = Field(3, ge=1, le=3, description="How many suggestions, at most.")

    def conversation(self) -> list[ChatMessage]:
        """The customer is the prompt's user; the human agent speaks where the assistant would."""
        return [
            ChatMessage("user" if m.role == "customer" else "assistant", m.content) for m in self.messages
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
