"""Predictions of a real trained model: ranking, calibrated confidence and the out-of-scope decision."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from naa.errors import NotFoundError
from naa.intent import (
    OUT_OF_SCOPE,
    EmbeddingIntentClassifier,
    EmbeddingIntentConfig,
    LabelledExample,
    TrainReport,
    load_intent_classifier,
)
from naa.intent.calibration import calibrated_probabilities
from naa.intent.lexical import LEXICAL_FILE, combined_logits, load_lexical
from naa.intent.model_files import OPENVINO_DIR, read_meta, write_meta
from naa.openvino_encoder import OpenVINOEncoder

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


def test_bfloat16_weights_predict_as_float32_does(
    trained_model: tuple[Path, TrainReport], banking_slice: Slice
) -> None:
    model_dir, _ = trained_model
    queries = [e.text for e in banking_slice[2]]
    full_config = EmbeddingIntentConfig(embedding_precision="float32", embedding_runtime="torch")
    full = EmbeddingIntentClassifier(full_config, model_dir)
    half = EmbeddingIntentClassifier(
        full_config.model_copy(update={"embedding_precision": "bfloat16"}), model_dir
    )
    full_probs, full_confidence = full.scores(queries)
    half_probs, half_confidence = half.scores(queries)
    assert next(half._encoder.transformer.parameters()).dtype == torch.bfloat16
    assert next(full._encoder.transformer.parameters()).dtype == torch.float32
    assert (half_probs.argmax(axis=1) == full_probs.argmax(axis=1)).mean() >= 0.95
    assert np.abs(half_confidence - full_confidence).max() < 0.05


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_openvino_predicts_as_pytorch_float32_does(
    trained_model: tuple[Path, TrainReport], banking_slice: Slice, precision: str
) -> None:
    """The compiled encoder must pool as training did (mean, unnormalised), or the head sees other inputs."""
    model_dir, _ = trained_model
    queries = [e.text for e in banking_slice[2]]
    reference = EmbeddingIntentConfig(embedding_precision="float32", embedding_runtime="torch")
    probs, confidence = EmbeddingIntentClassifier(reference, model_dir).scores(queries)
    config = reference.model_copy(update={"embedding_precision": precision, "embedding_runtime": "openvino"})
    compiled = EmbeddingIntentClassifier(config, model_dir)
    compiled_probs, compiled_confidence = compiled.scores(queries)
    assert isinstance(compiled._encoder, OpenVINOEncoder)
    assert (model_dir / OPENVINO_DIR / "model.xml").is_file()  # kept for the next process
    tolerance = 1e-3 if precision == "float32" else 0.05
    assert np.abs(compiled_probs - probs).max() < tolerance
    assert np.abs(compiled_confidence - confidence).max() < tolerance
    assert (compiled_probs.argmax(axis=1) == probs.argmax(axis=1)).mean() >= 0.95


def test_missing_model_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="naa intent train"):
        load_intent_classifier(EmbeddingIntentConfig(), tmp_path / "nothing")


def test_a_stored_ngram_model_joins_the_encoder_with_its_weight(
    tmp_path: Path, trained_model: tuple[Path, TrainReport], banking_slice: Slice
) -> None:
    # Held-out log loss gave the small slice's n-gram model a weight; a copy of the model with weight 0
    # is the encoder alone, and prediction must combine the two as combined_logits does.
    model_dir, _ = trained_model
    _, _, test = banking_slice
    meta = read_meta(model_dir)
    assert meta.lexical_weight > 0 and (model_dir / LEXICAL_FILE).exists()
    encoder_dir = tmp_path / "model"
    shutil.copytree(model_dir, encoder_dir)
    write_meta(encoder_dir, dataclasses.replace(meta, lexical_weight=0.0))
    lexical = load_lexical(model_dir)

    queries = [e.text for e in test]
    encoder_only = EmbeddingIntentClassifier(EmbeddingIntentConfig(), encoder_dir)
    combined = EmbeddingIntentClassifier(EmbeddingIntentConfig(), model_dir)
    encoder_probs, _ = encoder_only.scores(queries)
    # T * log softmax(z / T) is the encoder's logits z less a constant per row, which the combination drops
    encoder_logits = meta.temperature * np.log(encoder_probs)
    expected = calibrated_probabilities(
        combined_logits(encoder_logits, lexical.log_probs(queries), meta.lexical_weight), meta.temperature
    )
    probs, confidence = combined.scores(queries)
    assert np.allclose(probs, expected, atol=1e-6) and not np.allclose(probs, encoder_probs, atol=1e-3)
    assert confidence.shape == (len(queries),)
