"""Intent identification: train a classifier from a partner's labelled examples, then predict.

>>> report = train_intent_classifier(config, read_examples(Path("intents.yaml")), Path("model"))
>>> classifier = load_intent_classifier(config, Path("model"))
>>> classifier.predict(["where is my card?"])[0].label
"""

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naa.errors import NotFoundError
from naa.intent.base import OUT_OF_SCOPE, IntentClassifier, IntentPrediction, IntentScore
from naa.intent.config import EmbeddingIntentConfig
from naa.intent.examples import LabelledExample, read_examples
from naa.intent.model_files import META_FILE

if TYPE_CHECKING:
    from naa.intent.embedding_classifier import EmbeddingIntentClassifier
    from naa.intent.training import TrainReport, train_intent_classifier

# Names whose modules import torch and scikit-learn (2 s): loaded on first use, so that reading a partner
# file (which imports naa.intent.config, and so this package) and `naa --help` stay instant.
_LAZY = {
    "EmbeddingIntentClassifier": "naa.intent.embedding_classifier",
    "TrainReport": "naa.intent.training",
    "train_intent_classifier": "naa.intent.training",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "OUT_OF_SCOPE",
    "EmbeddingIntentClassifier",
    "EmbeddingIntentConfig",
    "IntentClassifier",
    "IntentPrediction",
    "IntentScore",
    "LabelledExample",
    "TrainReport",
    "load_intent_classifier",
    "read_examples",
    "train_intent_classifier",
]


def load_intent_classifier(config: EmbeddingIntentConfig, model_dir: Path) -> IntentClassifier:
    """The classifier trained into ``model_dir``; weights load on ``warm_up()`` or the first prediction.

    Raises:
        NotFoundError: ``model_dir`` holds no trained model.
    """
    from naa.intent.embedding_classifier import EmbeddingIntentClassifier

    if not (model_dir / META_FILE).is_file():
        raise NotFoundError(f"no trained intent model in {model_dir}: run `naa intent train` first")
    return EmbeddingIntentClassifier(config, model_dir)
