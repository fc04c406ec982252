"""Partner settings for knowledge-base retrieval."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from naa.embeddings import DEFAULT_EMBEDDING_MODEL, Precision, Runtime


class FaissRetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["faiss"] = "faiss"
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL, description="Sentence-transformers model to embed with."
    )
    top_k: int = Field(4, ge=1, description="Passages passed to the generator per turn.")
    min_score: float = Field(
        0.35,
        ge=-1.0,
        le=1.0,
        description="Passages whose cosine similarity to the question is below this are dropped, not cited.",
    )
    chunk_size: int = Field(800, ge=100, description="Characters per chunk.")
    chunk_overlap: int = Field(120, ge=0, description="Characters shared by neighbouring chunks.")
    approximate_above: int = Field(
        50_000,
        ge=1,
        description="Above this many chunks the index switches from exact to approximate search.",
    )
    approximate_index: Literal["hnsw", "ivf"] = Field(
        "hnsw", description="Which approximate index is used above approximate_above."
    )
    hnsw_ef_search: int = Field(
        64, ge=1, description="HNSW candidates visited per query: higher finds more true neighbours, slower."
    )
    ivf_nprobe: int = Field(
        16, ge=1, description="IVF lists probed per query: higher finds more true neighbours, slower."
    )
    embedding_batch_size: int = Field(
        32,
        ge=1,
        description=(
            "Chunks embedded per encoder call during ingestion: on OpenVINO, 32 embedded about 10% more "
            "chunks/s than 64 on 2 cores (less padding per batch)."
        ),
    )
    embedding_precision: Precision = Field(
        "auto",
        description=(
            "Arithmetic of the encoder on CPU: bfloat16 embeds about twice as fast with vectors within 1e-4 "
            "cosine of float32; auto uses it where the CPU has bfloat16 instructions (AVX512-BF16 or AMX)."
        ),
    )
    embedding_runtime: Runtime = Field(
        "auto",
        description=(
            "What runs the encoder on CPU: openvino compiles it into fused kernels (about 1.5x the "
            "ingestion rate of torch and a quarter of its time per query); auto uses openvino unless the "
            "model cannot be converted, then torch."
        ),
    )
    reranker_model: str | None = Field(
        None, description="Cross-encoder that re-orders the top passages, if set."
    )
    rerank_candidates: int = Field(
        20,
        ge=1,
        description="Passages fetched by vector search for the cross-encoder to re-order into top_k.",
    )

    @model_validator(mode="after")
    def _overlap_below_half_a_chunk(self) -> Self:
        if self.chunk_overlap * 2 > self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be at most half of chunk_size "
                f"({self.chunk_size}): lower chunk_overlap"
            )
        return self
