"""Feedback on an assistant message: thumbs up or down, a comment, the reply the agent would have sent."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.request import RequestBody
from naa.storage.models import Rating


class FeedbackCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "message_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                    "rating": "down",
                    "comment": "Cited the wrong article.",
                    "corrected_reply": "Refunds to PayPal take 2 business days [1].",
                }
            ]
        },
    )

    message_id: str = Field(..., description="An assistant message id from /v1/chat or a conversation.")
    rating: Rating
    comment: str | None = Field(None, max_length=5000)
    corrected_reply: str | None = Field(
        None, max_length=20000, description="What the reply should have been."
    )


class FeedbackPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                    "message_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                    "rating": "down",
                    "comment": "Cited the wrong article.",
                    "corrected_reply": "Refunds to PayPal take 2 business days [1].",
                    "created_at": "2026-11-27T09:01:00Z",
                }
            ]
        },
    )

    id: str
    message_id: str
    rating: Rating
    comment: str | None
    corrected_reply: str | None
    created_at: datetime


class FeedbacksPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "feedback": [
                        {
                            "id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                            "message_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                            "rating": "up",
                            "comment": None,
                            "corrected_reply": None,
                            "created_at": "2026-11-27T09:01:00Z",
                        }
                    ]
                }
            ]
        }
    )

    feedback: list[FeedbackPublic] = Field(..., description="Newest first.")
