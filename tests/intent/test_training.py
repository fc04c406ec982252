"""Training with the real recipe on a small Banking77 slice, and the guarantees around saving."""

from pathlib import Path

import pytest

from naa.errors import ConfigError, TrainingError
from naa.intent import (
    OUT_OF_SCOPE,
    EmbeddingIntentConfig,
    LabelledExample,
    TrainReport,
    load_intent_classifier,
    train_intent_classifier,
)
from naa.intent.lexical import LEXICAL_FILE, WEIGHTS
from naa.intent.model_files import read_meta

Slice = tuple[list[LabelledExample], list[LabelledExample], list[LabelledExample]]


def test_training_report_describes_the_calibrated_model(trained_model: tuple[Path, TrainReport]) -> None:
    model_dir, report = trained_model
    assert report.intents == 10
    assert report.train_examples == 100
    assert report.calibration == "validation"
    assert report.held_out_accuracy is not None and report.held_out_accuracy >= 0.7
    assert 0.0 < report.threshold < 1.0
    meta = read_meta(model_dir)
    assert meta.threshold == report.threshold
    assert meta.temperature == report.temperature
    assert len(meta.labels) == 10 and OUT_OF_SCOPE not in meta.labels
    assert meta.lexical_weight in WEIGHTS and meta.lexical_weight == report.lexical_weight  # from validation
    assert (model_dir / LEXICAL_FILE).exists() == (meta.lexical_weight > 0)


def test_out_of_scope_examples_become_a_reject_class(
    tmp_path: Path, banking_slice: Slice, small_config: EmbeddingIntentConfig
) -> None:
    train, _, test = banking_slice
    off_topic = [
        "what's the weather in paris",
        "book me a table for two",
        "who won the match",
        "sing a song",
    ] * 2
    report = train_intent_classifier(
        small_config.model_copy(update={"epochs": 2}), train[:40], tmp_path / "m", out_of_scope=off_topic
    )
    meta = read_meta(tmp_path / "m")
    assert meta.labels[-1] == OUT_OF_SCOPE
    assert report.intents == 4
    # No validation set: a stratified tenth of every intent with five or more examples is held out.
    assert report.calibration == "held-out"
    assert report.held_out_examples == 5
    prediction = load_intent_classifier(small_config, tmp_path / "m").predict([test[0].text])[0]
    assert all(score.label != OUT_OF_SCOPE for score in prediction.top)


def test_training_reports_progress_from_zero_to_one(
    tmp_path: Path, banking_slice: Slice, small_config: EmbeddingIntentConfig
) -> None:
    train, _, _ = banking_slice
    seen: list[tuple[float, str]] = []
    train_intent_classifier(
        small_config.model_copy(update={"epochs": 1}),
        train[:20],
        tmp_path / "m",
        progress=lambda fraction, message: seen.append((fraction, message)),
    )
    fractions = [fraction for fraction, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(message for _, message in seen)


def test_failed_training_leaves_the_previous_model(
    tmp_path: Path, trained_model: tuple[Path, TrainReport], banking_slice: Slice
) -> None:
    model_dir, _ = trained_model
    before = {p.relative_to(model_dir): p.stat().st_mtime_ns for p in model_dir.rglob("*")}
    train, _, _ = banking_slice
    bad = EmbeddingIntentConfig(trainable_layers=99)
    with pytest.raises(TrainingError, match="trainable_layers"):
        train_intent_classifier(bad, train, model_dir)
    with pytest.raises(ConfigError, match="no_such_intent"):
        train_intent_classifier(
            EmbeddingIntentConfig(), train, model_dir, validation=[LabelledExample("hello", "no_such_intent")]
        )
    after = {p.relative_to(model_dir): p.stat().st_mtime_ns for p in model_dir.rglob("*")}
    assert after == before
    assert [p.name for p in model_dir.parent.iterdir()] == [model_dir.name]


def test_training_refuses_a_single_intent(tmp_path: Path) -> None:
    examples = [
        LabelledExample("where is my card", "card_arrival"),
        LabelledExample("card not here", "card_arrival"),
    ]
    with pytest.raises(ConfigError, match="single intent"):
        train_intent_classifier(EmbeddingIntentConfig(), examples, tmp_path / "m")
    assert not (tmp_path / "m").exists()
