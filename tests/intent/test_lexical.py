"""The n-gram model beside the encoder: scikit-learn's TF-IDF and logistic regression, stored as arrays."""

from pathlib import Path

import numpy as np
from scipy.special import softmax

from naa.intent.lexical import (
    LEXICAL_FILE,
    choose_weight,
    combined_logits,
    fit_lexical,
    load_lexical,
    save_lexical,
)

TEXTS = [
    "my top up is still pending",
    "top up pending for hours",
    "why is my top-up pending",
    "my top up failed",
    "top up failed again",
    "the top-up has failed",
    "my card has not arrived",
    "card still not arrived",
    "when will my card arrive",
]
TARGETS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])


def test_it_learns_the_words_and_survives_a_save_and_load(tmp_path: Path) -> None:
    model = fit_lexical(TEXTS, TARGETS, 3)
    assert model is not None
    queries = ["top up pending since yesterday", "top up failed twice", "card not arrived yet"]
    log_probs = model.log_probs(queries)
    assert log_probs.argmax(axis=1).tolist() == [0, 1, 2]
    assert np.allclose(np.exp(log_probs).sum(axis=1), 1.0)

    save_lexical(tmp_path, model)
    with np.load(tmp_path / LEXICAL_FILE, allow_pickle=False) as data:  # arrays only: no pickle to run
        assert data["weights"].dtype == np.float16
    assert np.array_equal(load_lexical(tmp_path).log_probs(queries), log_probs)


def test_too_little_text_for_shared_ngrams_gives_no_model() -> None:
    assert fit_lexical(["hi", "bye"], np.array([0, 1]), 2) is None


def test_weight_zero_is_the_encoder_alone_at_any_temperature() -> None:
    rng = np.random.default_rng(0)
    encoder, lexical = rng.normal(size=(4, 3)), np.log(softmax(rng.normal(size=(4, 3)), axis=1))
    for temperature in (0.5, 1.0, 2.0):
        alone = softmax(encoder / temperature, axis=1)
        assert np.allclose(softmax(combined_logits(encoder, lexical, 0.0) / temperature, axis=1), alone)


def test_the_weight_is_the_lightest_with_the_best_held_out_accuracy() -> None:
    targets = np.array([0, 1, 2, 0])
    # The encoder gets the last example wrong (class 1), the lexical model gets it right, and the
    # encoder is sure of the others: a small lexical weight fixes the mistake, and breaks nothing.
    encoder = np.array([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0], [1.0, 1.2, 0]])
    lexical = np.log(np.array([[0.4, 0.3, 0.3], [0.3, 0.4, 0.3], [0.3, 0.3, 0.4], [0.8, 0.1, 0.1]]))
    assert choose_weight(encoder, lexical, targets) == 0.1
    assert choose_weight(encoder, np.log(np.full((4, 3), 1 / 3)), targets) == 0.0  # no help: encoder alone
