"""The n-gram model beside the encoder: scikit-learn's TF-IDF and logistic regression, stored as arrays."""

from pathlib import Path

import numpy as np
from scipy.special import softmax

from naa.intent.lexical import (
    LEXICAL_FILE,
    WEIGHTS,
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


def test_the_weight_follows_how_much_the_lexical_model_helps_on_held_out_examples() -> None:
    targets = np.array([0, 1, 2, 0, 1, 2])
    # The encoder gets the last two examples wrong and is unsure of the others.
    encoder = np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0], [1.0, 0, 0], [1.5, 1.0, 0], [0, 1.5, 1.0]])
    right = np.log(np.full((6, 3), 0.05) + 0.85 * np.eye(3)[targets])  # sure and right every time
    wrong = np.log(np.full((6, 3), 0.05) + 0.85 * np.eye(3)[(targets + 1) % 3])  # sure and always wrong
    mixed = np.where(np.arange(6)[:, None] < 3, wrong, right)  # wrong where the encoder is right, and back
    assert choose_weight(encoder, right, targets) == max(WEIGHTS)
    assert choose_weight(encoder, wrong, targets) == 0.0
    assert 0.0 < choose_weight(encoder, mixed, targets) < max(WEIGHTS)
