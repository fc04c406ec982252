"""Turning raw classifier scores into calibrated confidences and an out-of-scope threshold.

Both are fitted on held-out examples only, never on the training set: a fine-tuned classifier is
over-confident on what it has seen, so a threshold picked there would accept almost everything.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """Temperature scaling (Guo et al. 2017, arXiv 1706.04599): the T minimising held-out NLL.

    Args:
        logits: ``(N, C)`` raw scores of N held-out examples.
        targets: ``(N,)`` index of each example's true class.
    """

    def nll(log_t: float) -> float:
        log_p = log_softmax(logits / np.exp(log_t), axis=1)  # (N, C)
        return float(-log_p[np.arange(len(targets)), targets].mean())

    # Bounded below: a held-out set the model gets all right would otherwise drive T to 0 (certainty).
    result = minimize_scalar(nll, bounds=(np.log(0.2), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def calibrated_probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``(N, C)`` class probabilities from ``(N, C)`` logits."""
    return np.asarray(softmax(logits.astype(np.float64) / temperature, axis=1))


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, out_of_scope: np.ndarray) -> float:
    """The confidence threshold under which held-out queries are best rejected.

    A query is handled right when an in-scope query with the right top intent is accepted, or when any
    other query (out of scope, or in scope but misclassified, so a fallback beats a wrong answer) is
    rejected. The score is the mean of the handled-right rates of the in-scope and the out-of-scope
    group, so a hundred out-of-scope queries weigh as much as thousands of in-scope ones. Ties go to the
    lowest threshold, which rejects the fewest customers.

    Args:
        confidence: ``(N,)`` confidence of each held-out query.
        correct: ``(N,)`` True where the top in-scope intent is the right one.
        out_of_scope: ``(N,)`` True for out-of-scope queries.
    """
    candidates = np.concatenate([[0.0], np.unique(confidence)])  # (K,) accepted when confidence >= t
    accepted = confidence[None, :] >= candidates[:, None]  # (K, N)
    handled = np.where(accepted, correct[None, :], ~correct[None, :])  # (K, N)
    groups = [g for g in (~out_of_scope, out_of_scope) if g.any()]
    score = np.mean([handled[:, g].mean(axis=1) for g in groups], axis=0)  # (K,)
    return float(candidates[int(np.argmax(score))])
