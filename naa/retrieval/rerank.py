"""Optional second stage: a cross-encoder re-orders the passages that vector search found.

A cross-encoder reads the query and the passage together, so it ranks better than cosine similarity of two
separately computed embeddings, but it costs one model call per (query, passage) pair: it only re-orders
the few candidates of the vector search. Scores stay cosine (so ``min_score`` keeps one meaning); the
cross-encoder's own score is in ``Passage.rerank_score``.
"""

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naa.errors import ModelUnavailableError
from naa.retrieval.base import Passage


class CrossEncoderReranker:
    """Re-orders passages by a sentence-transformers ``CrossEncoder`` given as a local folder (or hub id).

    >>> reranker = CrossEncoderReranker("/models/ms-marco-MiniLM-L6-v2")  # doctest: +SKIP
    >>> reranker.rerank("how long do refunds take?", passages)[0].rerank_score  # doctest: +SKIP
    """

    def __init__(self, model: str) -> None:
        self.model = model

    def warm_up(self) -> None:
        _load_cross_encoder(self.model)

    def rerank(self, query: str, passages: Sequence[Passage]) -> list[Passage]:
        """The same passages, most relevant first by the cross-encoder."""
        if not passages:
            return []
        scores = _load_cross_encoder(self.model).predict(
            [(query, passage.text) for passage in passages], convert_to_numpy=True
        )
        scored = [
            dataclasses.replace(passage, rerank_score=float(score))
            for passage, score in zip(passages, scores, strict=True)
        ]
        return sorted(scored, key=lambda passage: passage.rerank_score or 0.0, reverse=True)


@functools.cache
def _load_cross_encoder(model: str) -> Any:
    from sentence_transformers import CrossEncoder

    path = Path(model).expanduser()
    try:
        return CrossEncoder(str(path) if path.exists() else model, device="cpu")
    except (OSError, ValueError) as err:
        raise ModelUnavailableError(
            f"cannot load re-ranker model {model!r}: {err}. Set retrieval.reranker_model to a local folder "
            "of a cross-encoder, or remove it"
        ) from err
