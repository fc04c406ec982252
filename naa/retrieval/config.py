"""Partner settings for knowledge-base retrieval."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from naa.embeddings import DEFAULT_EMBEDDING_MODEL


class FaissRetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["faiss"] = "faiss"
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="Sentence-transformers model to embed with.")
    top_k: int = Field(4, ge=1, description="Passages passed to the generator per turn.")
    min_score: float = Field(0.35, description="Passages scoring below this are dropped, not cited.")
    chunk_size: int = Field(800, ge=100, description="Characters per chunk.")
    chunk_overlap: int = Field(120, ge=0, description="Characters shared by neighbouring chunks.")
    approximate_above: int = Field(
        50_000, ge=1, description="Above this many chunks the index switches from exact to HNSW search."
    )
    reranker_model: str | None = Field(None, description="Cross-encoder that re-orders the top passages, if set.")
