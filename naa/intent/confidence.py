"""How sure the classifier is that its top intent is right, from two signals.

The calibrated softmax probability of the top intent ranks in-scope mistakes well but is often high
for out-of-scope queries: softmax must spread all its mass over known intents. The cosine similarity
to the nearest training example (in the fine-tuned space) says whether anything like the query was
seen at all (a k-nearest-neighbour out-of-distribution score, as in Sun et al. 2022, arXiv 2204.06507).
A logistic regression fitted on held-out queries combines the two into the probability that the top
intent is right, which is the confidence that the threshold is applied to.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

_EPS = 1e-6


@dataclass(frozen=True)
class ConfidenceModel:
    """``P(top intent right) = sigmoid(w0 * logit(p_top) + w1 * similarity + bias)``."""

    weights: tuple[float, float]
    bias: float

    def __call__(self, top_probability: np.ndarray, similarity: np.ndarray) -> np.ndarray:
        z = _features(top_probability, similarity) @ np.asarray(self.weights) + self.bias  # (N,)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def fit_confidence(
    top_probability: np.ndarray, similarity: np.ndarray, correct: np.ndarray
) -> ConfidenceModel | None:
    """Fit on held-out queries; None when they are all right or all wrong (nothing to learn from).

    Args:
        top_probability: ``(N,)`` calibrated probability of each query's top in-scope intent.
        similarity: ``(N,)`` cosine similarity to the nearest in-scope training example.
        correct: ``(N,)`` True where the top intent is right (never for out-of-scope queries).
    """
    if correct.all() or not correct.any():
        return None
    model = LogisticRegression(C=1.0).fit(_features(top_probability, similarity), correct)
    return ConfidenceModel(
        weights=(float(model.coef_[0, 0]), float(model.coef_[0, 1])), bias=float(model.intercept_[0])
    )


def nearest_similarity(embeddings: np.ndarray, memory: np.ndarray) -> np.ndarray:
    """``(N,)`` highest cosine similarity of each ``(N, H)`` embedding to the ``(M, H)`` unit-norm memory."""
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), _EPS)  # (N, H)
    return np.asarray((unit @ memory.T).max(axis=1))


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, stored as float16: a memory of training examples at half the size."""
    norms = np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), _EPS)
    return np.asarray(embeddings / norms, dtype=np.float16)


def _features(top_probability: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    p = np.clip(top_probability, _EPS, 1.0 - _EPS)
    return np.stack([np.log(p / (1.0 - p)), similarity], axis=1)  # (N, 2)
