"""Metrics on hand-made predictions whose scores are worked out in comments."""

import pytest

from naa.eval.intent_metrics import intent_metrics
from naa.intent import OUT_OF_SCOPE, IntentPrediction, IntentScore


def _pred(top: str, rejected: bool = False, confidence: float = 0.9) -> IntentPrediction:
    return IntentPrediction(
        label=OUT_OF_SCOPE if rejected else top,
        confidence=confidence,
        out_of_scope=rejected,
        top=(IntentScore(top, confidence),),
    )


def test_accuracy_and_macro_f1_ignore_the_rejection() -> None:
    gold = ["a", "a", "b", "b"]
    predictions = [_pred("a"), _pred("b"), _pred("b", rejected=True), _pred("b")]
    metrics = intent_metrics(gold, predictions)
    assert metrics.accuracy == 0.75  # top intents a, b, b, b: three right
    # F1(a) = 2*1*0.5/1.5 = 2/3; F1(b) = 2*(2/3)*1/(5/3) = 0.8; macro = (2/3 + 0.8)/2
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert metrics.in_scope_accuracy == 0.5  # the rejected right answer no longer counts
    assert metrics.oos_recall is None and metrics.n_out_of_scope == 0


def test_out_of_scope_recall_and_in_scope_accuracy() -> None:
    gold = ["a", "b", OUT_OF_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE]
    predictions = [_pred("a"), _pred("a"), _pred("a", rejected=True), _pred("b", rejected=True), _pred("b")]
    metrics = intent_metrics(gold, predictions)
    assert metrics.in_scope_accuracy == 0.5  # a right; b predicted a
    assert metrics.oos_recall == pytest.approx(2 / 3)  # two of three out-of-scope queries rejected
    assert metrics.oos_precision == 1.0  # nothing in scope was rejected
    assert (metrics.n_in_scope, metrics.n_out_of_scope) == (2, 3)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        intent_metrics(["a", "b"], [_pred("a")])
