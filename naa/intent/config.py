"""Partner settings for intent classification."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from naa.embeddings import DEFAULT_EMBEDDING_MODEL, Precision, Runtime


class EmbeddingIntentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["embedding"] = "embedding"
    examples: Path | None = Field(
        default=None,
        description="Labelled examples (YAML mapping intent -> list of texts, or CSV text,intent).",
    )
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL, description="Sentence-transformers model to fine-tune."
    )
    embedding_precision: Precision = Field(
        default="auto",
        description=(
            "Encoder arithmetic at prediction time: bfloat16 halves what each query reads (Banking77 p50 "
            "15.8 -> 12.6 ms on PyTorch on a Xeon with AMX, same accuracy); auto uses it where the CPU has "
            "bfloat16 instructions."
        ),
    )
    embedding_runtime: Runtime = Field(
        default="auto",
        description=(
            "What runs the encoder at prediction time: openvino compiles it into fused kernels, about "
            "a third of torch's time per query; auto uses openvino unless the model cannot be converted."
        ),
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Below this confidence the intent is out_of_scope; unset: the calibrated one.",
    )
    top_n: int = Field(default=3, ge=1, description="How many ranked intents a prediction carries.")
    epochs: int = Field(default=4, ge=1, le=50, description="Passes over the training examples.")
    trainable_layers: int = Field(
        default=3, ge=1, description="Top encoder layers fine-tuned; the others stay frozen (cheaper on CPU)."
    )
    batch_size: int = Field(default=32, ge=2, description="Training examples per optimiser step.")
    learning_rate: float = Field(
        default=1e-4, gt=0.0, description="AdamW learning rate of the fine-tuned encoder layers."
    )
    seed: int = Field(default=0, description="Random seed of training, for repeatable models.")
