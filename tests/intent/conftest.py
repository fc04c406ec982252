"""A small real intent model, trained once per test session on a slice of Banking77.

Ten intents x ten examples and a few epochs of the real recipe: seconds of CPU, yet a real
fine-tuned MiniLM with a calibrated threshold, so the tests exercise what users run.
"""

from pathlib import Path

import pytest

from naa.eval.datasets import load_banking77
from naa.intent import EmbeddingIntentConfig, LabelledExample, TrainReport, train_intent_classifier

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INTENTS = (
    "activate_my_card",
    "age_limit",
    "card_arrival",
    "change_pin",
    "exchange_rate",
    "lost_or_stolen_phone",
    "passcode_forgotten",
    "request_refund",
    "terminate_account",
    "top_up_failed",
)
# Clearly off-topic for a bank: the out-of-scope queries of the validation set.
OFF_TOPIC = (
    "what is the capital of australia",
    "recommend a good pizza place nearby",
    "how tall is mount everest",
    "play some jazz music",
    "what's the weather like tomorrow",
    "tell me a joke about cats",
)


def _slice(examples: list[LabelledExample], per_intent: int, skip: int) -> list[LabelledExample]:
    chosen = []
    for intent in INTENTS:
        group = [e for e in examples if e.intent == intent]
        chosen.extend(group[skip : skip + per_intent])
    return chosen


@pytest.fixture(scope="session")
def banking_slice() -> tuple[list[LabelledExample], list[LabelledExample], list[LabelledExample]]:
    """Train (10 per intent), validation (4 per intent) and test (5 per intent) examples."""
    data = load_banking77(DATA_DIR)
    return _slice(data.train, 10, 0), _slice(data.train, 4, 10), _slice(data.test, 5, 0)


@pytest.fixture(scope="session")
def small_config() -> EmbeddingIntentConfig:
    return EmbeddingIntentConfig(epochs=4, batch_size=20, learning_rate=2e-4)


@pytest.fixture(scope="session")
def trained_model(
    tmp_path_factory: pytest.TempPathFactory,
    banking_slice: tuple[list[LabelledExample], list[LabelledExample], list[LabelledExample]],
    small_config: EmbeddingIntentConfig,
) -> tuple[Path, TrainReport]:
    train, validation, _ = banking_slice
    validation = validation + [LabelledExample(text, "out_of_scope") for text in OFF_TOPIC]
    model_dir = tmp_path_factory.mktemp("intent") / "model"
    report = train_intent_classifier(small_config, train, model_dir, validation=validation)
    return model_dir, report
