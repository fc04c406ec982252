"""Temperature scaling and threshold choice, checked on inputs whose answer is known."""

import numpy as np

from naa.intent.calibration import calibrated_probabilities, choose_threshold, fit_temperature


def test_fit_temperature_recovers_the_temperature_that_generated_the_labels() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(4000, 5))
    # Labels drawn from softmax(logits / 2): the calibrated temperature is 2.
    probs = calibrated_probabilities(logits, 2.0)
    targets = np.array([rng.choice(5, p=p) for p in probs])
    assert abs(fit_temperature(logits, targets) - 2.0) < 0.15


def test_choose_threshold_separates_right_answers_from_out_of_scope() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.65])
    correct = np.array([True, True, True, True, False, False, False])
    out_of_scope = np.array([False, False, False, False, True, True, False])
    # 0.6 accepts the four right answers and rejects both out-of-scope queries, but accepts the wrong
    # answer at 0.65: in-scope 4/5, out-of-scope 2/2, mean 0.9. 0.7 rejects that wrong answer but also the
    # right one at 0.6: the same 0.9. The tie goes to the lower threshold.
    assert choose_threshold(confidence, correct, out_of_scope) == 0.6


def test_choose_threshold_weighs_groups_equally() -> None:
    # Nine right in-scope answers at 0.5 and one out-of-scope query at 0.5 and one at 0.1:
    # 0.5 keeps all in-scope (1.0) and rejects half the out-of-scope (0.5): mean 0.75, the best.
    confidence = np.array([0.5] * 9 + [0.5, 0.1])
    correct = np.array([True] * 9 + [False, False])
    out_of_scope = np.array([False] * 9 + [True, True])
    assert choose_threshold(confidence, correct, out_of_scope) == 0.5


def test_choose_threshold_without_out_of_scope_rejects_likely_errors() -> None:
    confidence = np.array([0.95, 0.9, 0.85, 0.4, 0.35])
    correct = np.array([True, True, True, False, False])
    assert choose_threshold(confidence, correct, np.zeros(5, dtype=bool)) == 0.85
