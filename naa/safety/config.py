"""Partner settings for guardrails: what never reaches a model or storage, and what always reaches a human."""

from pydantic import BaseModel, ConfigDict, Field


class GuardrailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redact_payment_cards: bool = Field(
        True,
        description="Mask payment card numbers in customer messages (before the models and storage see them) "
        "and in replies.",
    )
    handoff_phrases: list[str] = Field(
        default_factory=list,
        description="A customer message containing one of these (any case) goes straight to a human, "
        "e.g. 'lawyer' or 'chargeback'.",
    )
