"""What a retriever takes and returns."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Passage:
    doc_id: str
    chunk_id: str
    text: str
    score: float  # higher is more relevant; cosine similarity for the FAISS retriever
    title: str = ""
    source: str = ""
    url: str = ""
    section: str = ""
    rerank_score: float | None = None  # cross-encoder relevance (0..1) when a re-ranker ordered the passages


class Retriever(Protocol):
    """Finds the knowledge-base passages for queries; backends and plugins satisfy it structurally."""

    def warm_up(self) -> None: ...

    def search(self, queries: Sequence[str], top_k: int | None = None) -> list[list[Passage]]: ...


@dataclass(frozen=True)
class Document:
    """One knowledge-base article (or FAQ entry) before chunking.

    >>> doc = Document("returns/refunds.md", "# Refunds\\n\\nWe refund within 30 days.", title="Refunds")
    >>> doc.title
    'Refunds'
    """

    doc_id: str
    text: str  # Markdown-style: lines starting with '#' open sections for the chunker
    title: str = ""
    source: str = ""
    url: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
