"""Train-and-test runs of the intent recipe on a public data set, shared by ``naa eval`` and the benchmark."""

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from naa.eval.datasets import DatasetName, load_dataset
from naa.eval.intent_metrics import IntentMetrics, intent_metrics
from naa.intent import EmbeddingIntentClassifier, EmbeddingIntentConfig, TrainReport, train_intent_classifier
from naa.intent.examples import LabelledExample

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class IntentEvalResult:
    dataset: str
    metrics: IntentMetrics
    threshold: float
    train: TrainReport
    test_queries: int
    predict_seconds: float

    def to_dict(self) -> dict[str, Any]:
        train = asdict(self.train)
        train["model_dir"] = str(self.train.model_dir)
        return {
            "dataset": self.dataset,
            "metrics": self.metrics.to_dict(),
            "threshold": self.threshold,
            "train": train,
            "test_queries": self.test_queries,
            "predict_seconds": self.predict_seconds,
        }


def evaluate_intent(
    dataset: DatasetName,
    data_dir: Path,
    model_dir: Path,
    config: EmbeddingIntentConfig | None = None,
    limit_train: int | None = None,
    progress: Progress | None = None,
) -> tuple[IntentEvalResult, EmbeddingIntentClassifier]:
    """Train on a data set's training split, calibrate on its validation split (if any), score its test split.

    Returns the result and the trained classifier, warm, for callers that go on to time it.
    """
    config = config or EmbeddingIntentConfig()
    data = load_dataset(dataset, data_dir)
    train = data.train if limit_train is None else stratified_subset(data.train, limit_train, config.seed)
    report = train_intent_classifier(
        config,
        train,
        model_dir,
        progress=progress,
        validation=data.validation or None,
        out_of_scope=data.oos_train,
    )
    classifier = EmbeddingIntentClassifier(config, model_dir)
    classifier.warm_up()
    started = time.perf_counter()
    predictions = classifier.predict([example.text for example in data.test])
    seconds = time.perf_counter() - started
    result = IntentEvalResult(
        dataset=dataset,
        metrics=intent_metrics([example.intent for example in data.test], predictions),
        threshold=classifier.threshold,
        train=report,
        test_queries=len(data.test),
        predict_seconds=seconds,
    )
    return result, classifier


def stratified_subset(examples: Sequence[LabelledExample], limit: int, seed: int) -> list[LabelledExample]:
    """At most ``limit`` examples, drawn round-robin over intents so that each keeps as many as it can."""
    by_intent: dict[str, list[LabelledExample]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    for group in by_intent.values():
        rng.shuffle(group)
    chosen: list[LabelledExample] = []
    depth = 0
    while len(chosen) < min(limit, len(examples)):
        for intent in sorted(by_intent):
            if depth < len(by_intent[intent]) and len(chosen) < limit:
                chosen.append(by_intent[intent][depth])
        depth += 1
    return chosen
