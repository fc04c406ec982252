"""``POST /v1/intents/classify`` and ``POST /v1/search``: one stage of the chain on its own."""

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.assistant import IntentPublic, PassagePublic
from api.schemas.request import RequestBody


class ClassifyCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"texts": ["where is my parcel", "I want my money back"]}]},
    )

    texts: list[str] = Field(
        ..., min_length=1, max_length=64, description="Utterances, classified as one batch."
    )


class ClassifyPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "predictions": [
                        {"label": "order_status", "confidence": 0.93, "out_of_scope": False, "top": []},
                        {"label": "refund_request", "confidence": 0.88, "out_of_scope": False, "top": []},
                    ]
                }
            ]
        }
    )

    predictions: list[IntentPublic] = Field(..., description="One per text, in order.")


class SearchCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"query": "how long do refunds take", "top_k": 3}]}
    )

    query: str = Field(..., min_length=1)
    top_k: int | None = Field(
        None, ge=1, le=50, strict=True, description="Passages to return; the partner's top_k when unset."
    )


class SearchPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "passages": [
                        {
                            "doc_id": "refunds",
                            "chunk_id": "refunds#0",
                            "text": "Refunds reach your card in 5 days.",
                            "score": 0.71,
                            "title": "Refunds",
                            "source": "refunds.md",
                            "url": "",
                            "section": "",
                        }
                    ]
                }
            ]
        }
    )

    passages: list[PassagePublic] = Field(
        ..., description="Best first; those under the partner's min_score left out."
    )
