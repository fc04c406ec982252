"""What the assistant found for a turn, as the API shows it: intent, passages, citations."""

from pydantic import BaseModel, ConfigDict, Field

from naa.generation.base import Citation
from naa.intent.base import IntentPrediction
from naa.retrieval.base import Passage


class IntentScorePublic(BaseModel):
    label: str
    confidence: float = Field(..., ge=0, le=1)


class IntentPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "refund_status",
                    "confidence": 0.91,
                    "out_of_scope": False,
                    "top": [{"label": "refund_status", "confidence": 0.91}],
                }
            ]
        }
    )

    label: str = Field(..., description="The top intent, or out_of_scope.")
    confidence: float = Field(
        ..., ge=0, le=1, description="Calibrated probability of the top in-scope intent."
    )
    out_of_scope: bool = Field(..., description="Confidence under the partner's threshold.")
    top: list[IntentScorePublic] = Field(default_factory=list, description="Best in-scope intents first.")

    @classmethod
    def of(cls, prediction: IntentPrediction) -> "IntentPublic":
        return cls(
            label=prediction.label,
            confidence=prediction.confidence,
            out_of_scope=prediction.out_of_scope,
            top=[IntentScorePublic(label=s.label, confidence=s.confidence) for s in prediction.top],
        )


class PassagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    chunk_id: str
    text: str
    score: float = Field(..., description="Cosine similarity to the query; higher is more relevant.")
    title: str = ""
    source: str = ""
    url: str = ""
    section: str = ""

    @classmethod
    def of(cls, passage: Passage) -> "PassagePublic":
        return cls.model_validate(passage)


class CitationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int = Field(..., ge=1, description="The [n] marker in the reply.")
    doc_id: str
    title: str
    url: str
    source: str

    @classmethod
    def of(cls, citation: Citation) -> "CitationPublic":
        return cls.model_validate(citation)
