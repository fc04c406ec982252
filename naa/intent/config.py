"""Partner settings for intent classification."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from naa.embeddings import DEFAULT_EMBEDDING_MODEL


class EmbeddingIntentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["embedding"] = "embedding"
    examples: Path | None = Field(
        None, description="Labelled examples (YAML mapping intent -> list of texts, or CSV text,intent)."
    )
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="Sentence-transformers model to embed with.")
    threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Below this confidence the intent is out_of_scope and the assistant falls back."
    )
    top_n: int = Field(3, ge=1, description="How many ranked intents a prediction carries.")
