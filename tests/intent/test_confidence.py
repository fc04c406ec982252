"""The confidence model: both signals matter, and a query unlike any training example is not trusted."""

import numpy as np

from naa.intent.confidence import fit_confidence, nearest_similarity, unit_rows


def test_nearest_similarity_is_the_best_cosine() -> None:
    memory = unit_rows(np.array([[1.0, 0.0], [0.0, 2.0]])).astype(np.float32)
    queries = np.array([[3.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(nearest_similarity(queries, memory), [1.0, np.sqrt(0.5), 0.0], atol=1e-3)


def test_confidence_drops_for_confident_but_unfamiliar_queries() -> None:
    rng = np.random.default_rng(0)
    # Right answers: high top probability and close to a training example. Out-of-scope queries: the
    # softmax is often just as sure, but nothing similar was seen in training.
    p_right, s_right = rng.uniform(0.6, 1.0, 300), rng.uniform(0.7, 1.0, 300)
    p_oos, s_oos = rng.uniform(0.3, 1.0, 300), rng.uniform(0.2, 0.6, 300)
    model = fit_confidence(
        np.concatenate([p_right, p_oos]), np.concatenate([s_right, s_oos]), np.arange(600) < 300
    )
    assert model is not None
    sure, unfamiliar = model(np.array([0.95, 0.95]), np.array([0.9, 0.3]))
    assert sure > 0.9 and unfamiliar < 0.1


def test_no_confidence_model_without_both_outcomes() -> None:
    p, s = np.array([0.9, 0.8]), np.array([0.9, 0.9])
    assert fit_confidence(p, s, np.array([True, True])) is None
