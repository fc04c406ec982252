"""What a retriever takes and returns."""

from collections.abc import Sequence
from dataclasses import dataclass
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


class Retriever(Protocol):
    """Finds the knowledge-base passages for queries; backends and plugins satisfy it structurally."""

    def warm_up(self) -> None: ...

    def search(self, queries: Sequence[str], top_k: int | None = None) -> list[list[Passage]]: ...
