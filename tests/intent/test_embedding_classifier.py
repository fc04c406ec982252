"""Predictions of a real trained model: ranking, calibrated confidence and the out-of-scope decision."""

from pathlib import Path

import pytest

from naa.errors import NotFoundError
from naa.intent import (
    OUT_OF_SCOPE,
    EmbeddingIntentClassifier,
    EmbeddingIntentConfig,
    LabelledExample,
    TrainReport,
    load_intent_classifier,
)

Slice = tuple[list[LabelledExample], list[LabelledExample], list[LabelledExample]]


def test_predicts_the_intent_of_unseen_in_domain_queries(
    trained_model: tuple[Path, TrainReport], banking_slice: Slice
) -> None:
    model_dir, _ = trained_model
    _, _, test = banking_slice
    predictions = load_intent_classifier(EmbeddingIntentConfig(threshold=0.0), model_dir).predict(
        [e.text for e in test]
    )
    right = sum(p.label == e.intent for p, e in zip(predictions, test, strict=True))
    assert right / len(test) >= 0.8


def test_top_intents_are_ranked_calibrated_probabilities(trained_model: tuple[Path, TrainReport]) -> None:
    model_dir, _ = trained_model
    classifier = load_intent_classifier(EmbeddingIntentConfig(top_n=4), model_dir)
    prediction = classifier.predict(["I forgot my passcode, how do I reset it?"])[0]
    confidences = [score.confidence for score in prediction.top]
    assert len(prediction.top) == 4
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 < sum(confidences) <= 1.0 + 1e-6
    assert prediction.top[0].label == "passcode_forgotten"
    assert 0.5 < prediction.confidence <= 1.0  # probability that the top intent is right


def test_predict_marks_low_confidence_as_out_of_scope(trained_model: tuple[Path, TrainReport]) -> None:
    model_dir, _ = trained_model
    query = ["my new card still has not arrived"]
    accepted = load_intent_classifier(EmbeddingIntentConfig(threshold=0.0), model_dir).predict(query)[0]
    assert not accepted.out_of_scope and accepted.label == "card_arrival"
    assert accepted.confidence < 0.999
    # A confidence equal to the threshold is accepted; anything under it is out of scope.
    at = load_intent_classifier(EmbeddingIntentConfig(threshold=accepted.confidence), model_dir).predict(
        query
    )[0]
    assert not at.out_of_scope
    above = min(1.0, accepted.confidence + 0.001)
    rejected = load_intent_classifier(EmbeddingIntentConfig(threshold=above), model_dir).predict(query)[0]
    assert rejected.out_of_scope and rejected.label == OUT_OF_SCOPE
    assert rejected.top == accepted.top  # the ranking survives the rejection


def test_calibrated_threshold_applies_unless_the_partner_sets_one(
    trained_model: tuple[Path, TrainReport],
) -> None:
    model_dir, report = trained_model
    calibrated = EmbeddingIntentClassifier(EmbeddingIntentConfig(), model_dir)
    assert calibrated.threshold == report.threshold
    assert EmbeddingIntentClassifier(EmbeddingIntentConfig(threshold=0.25), model_dir).threshold == 0.25
    off_topic = calibrated.predict(
        ["what is the best recipe for chocolate cake", "how many moons does mars have"]
    )
    assert all(p.out_of_scope for p in off_topic)


def test_warm_up_twice_and_empty_batch(trained_model: tuple[Path, TrainReport]) -> None:
    model_dir, _ = trained_model
    classifier = EmbeddingIntentClassifier(EmbeddingIntentConfig(), model_dir)
    classifier.warm_up()
    classifier.warm_up()
    assert classifier.predict([]) == []


def test_missing_model_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="naa intent train"):
        load_intent_classifier(EmbeddingIntentConfig(), tmp_path / "nothing")
