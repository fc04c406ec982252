"""Would a second, larger encoder reach the intent targets? NAA's classifier averaged with all-mpnet-base-v2.

The experiment behind README's intent paragraph: the fine-tuned MiniLM classifiers that
``intent_benchmark.py --keep-models DIR`` saved, combined with a logistic regression on frozen
all-mpnet-base-v2 embeddings (the larger packaged encoder, 110M parameters; see ../shared/MODELS.md for
its five PyPI parts). The two models' class log-probabilities are averaged; CLINC150's out-of-scope
threshold on the top in-scope probability is chosen on the validation split with the rule NAA uses
(``choose_threshold``; NAA's own classifier also weighs in the similarity to the nearest training
example, so its "minilm" row here differs a little from intent_benchmark.py's). Also
reported: the in-scope accuracy at exactly 85% out-of-scope recall with the threshold read off the test
split (a bound no validation-chosen threshold can beat), and mpnet's single-query latency, which the
ensemble adds to every turn.

    .venv/bin/python benchmarks/intent_benchmark.py --keep-models /tmp/intent-models
    .venv/bin/python benchmarks/intent_ensemble_benchmark.py --models /tmp/intent-models \\
        --mpnet /path/to/all-mpnet-base-v2 [--cache /tmp/mpnet-embeddings]

Prints a table and writes benchmarks/results/intent_ensemble.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from naa.eval.datasets import DATASETS, IntentDataset, default_data_dir, load_dataset  # noqa: E402
from naa.intent import EmbeddingIntentClassifier, EmbeddingIntentConfig  # noqa: E402
from naa.intent.base import OUT_OF_SCOPE  # noqa: E402
from naa.intent.calibration import choose_threshold  # noqa: E402

C = 30.0  # logistic-regression regularisation, as MODELS.md's frozen-mpnet baseline
WEIGHT = 0.5  # share of the fine-tuned MiniLM in the averaged log-probabilities
OOS = -1  # label index of out-of-scope queries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, required=True, help="intent_benchmark.py --keep-models DIR")
    parser.add_argument("--mpnet", type=Path, required=True, help="folder of all-mpnet-base-v2")
    parser.add_argument("--cache", type=Path, default=None, help="keep mpnet embeddings here between runs")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(REPO))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "intent_ensemble.json")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    mpnet = SentenceTransformer(str(args.mpnet), device="cpu")
    results: dict[str, Any] = {"mpnet_latency_ms": _latency(mpnet), "datasets": {}}
    for name in args.datasets:
        data = load_dataset(name, args.data_dir)
        classifier = EmbeddingIntentClassifier(EmbeddingIntentConfig(), args.models / name)
        results["datasets"][name] = _compare(name, data, classifier, mpnet, args.cache)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    _print_table(results)
    print(f"wrote {args.out}")


def _compare(
    name: str, data: IntentDataset, classifier: EmbeddingIntentClassifier, mpnet: Any, cache: Path | None
) -> dict[str, Any]:
    labels = classifier.meta.labels
    index = {label: i for i, label in enumerate(labels)}
    in_scope = np.array([i for i, label in enumerate(labels) if label != OUT_OF_SCOPE])

    def targets(split: list[Any]) -> np.ndarray:
        return np.array([OOS if e.intent == OUT_OF_SCOPE else index[e.intent] for e in split])

    train_texts = [e.text for e in data.train] + data.oos_train
    train_labels = [e.intent for e in data.train] + [OUT_OF_SCOPE] * len(data.oos_train)
    regression = LogisticRegression(C=C, max_iter=3000).fit(
        _embed(mpnet, name, "train", train_texts, cache), train_labels
    )
    columns = [list(regression.classes_).index(label) for label in labels]

    def log_probs(split_name: str, split: list[Any]) -> dict[str, np.ndarray]:
        texts = [e.text for e in split]
        fine_tuned, _ = classifier.scores(texts)  # (N, C) calibrated probabilities
        frozen = regression.predict_proba(_embed(mpnet, name, split_name, texts, cache))[:, columns]
        minilm, other = np.log(fine_tuned + 1e-9), np.log(frozen + 1e-9)
        return {
            "minilm": minilm,
            "mpnet": other,
            "ensemble": log_softmax(WEIGHT * minilm + (1 - WEIGHT) * other, axis=1),
        }

    test = log_probs("test", data.test)
    validation = log_probs("validation", data.validation) if data.validation else None
    y_test = targets(data.test)
    rows = {}
    for model, scores in test.items():
        top = in_scope[scores[:, in_scope].argmax(axis=1)]
        known = y_test != OOS
        row = {
            "accuracy": float((top[known] == y_test[known]).mean()),
            "macro_f1": float(f1_score(y_test[known], top[known], average="macro")),
        }
        if validation is not None:
            row.update(_out_of_scope(validation[model], targets(data.validation), scores, y_test, in_scope))
        rows[model] = row
    return rows


def _out_of_scope(
    validation: np.ndarray,
    y_validation: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray,
    in_scope: np.ndarray,
) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall at the threshold chosen on validation, and the 85% bound."""

    def top_and_confidence(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs = softmax(scores, axis=1)[:, in_scope]  # (N, C_in)
        return in_scope[probs.argmax(axis=1)], probs.max(axis=1)

    top_v, confidence_v = top_and_confidence(validation)
    threshold = choose_threshold(confidence_v, top_v == y_validation, y_validation == OOS)
    top, confidence = top_and_confidence(test)
    known = y_test != OOS
    right = (top == y_test) & known
    at_85 = float(np.quantile(confidence[~known], 0.85))
    return {
        "threshold": threshold,
        "in_scope_accuracy": float((right & (confidence >= threshold))[known].mean()),
        "oos_recall": float((confidence < threshold)[~known].mean()),
        "in_scope_accuracy_at_85_oos_recall_test_threshold": float(
            (right & (confidence >= at_85))[known].mean()
        ),
    }


def _embed(model: Any, dataset: str, split: str, texts: list[str], cache: Path | None) -> np.ndarray:
    path = None if cache is None else cache / f"mpnet_{dataset}_{split}.npy"
    if path is not None and path.exists():
        vectors = np.load(path)
    else:
        print(
            f"[{time.strftime('%H:%M:%S')}] embedding {len(texts)} {dataset} {split} texts with mpnet",
            flush=True,
        )
        vectors = model.encode(texts, batch_size=64)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def _latency(model: Any) -> dict[str, float]:
    queries = [
        "how do I activate my card",
        "why was I charged a fee for my transfer?",
        "what is the exchange rate",
    ]
    model.encode(queries)
    timings = []
    for query in queries * 20:
        started = time.perf_counter()
        model.encode([query])
        timings.append(1000 * (time.perf_counter() - started))
    return {"p50": statistics.median(timings), "queries": len(timings)}


def _print_table(results: dict[str, Any]) -> None:
    print(f"mpnet single-query latency p50 {results['mpnet_latency_ms']['p50']:.1f} ms (added to every turn)")
    header = (
        f"{'data set':<10} {'model':<9} {'accuracy':>9} {'macro-F1':>9} {'in-scope':>9} {'oos rec.':>9} "
        f"{'@85% (test)':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, rows in results["datasets"].items():
        for model, row in rows.items():
            extra = (
                ""
                if "oos_recall" not in row
                else (
                    f" {100 * row['in_scope_accuracy']:8.2f}% {100 * row['oos_recall']:8.2f}%"
                    f" {100 * row['in_scope_accuracy_at_85_oos_recall_test_threshold']:11.2f}%"
                )
            )
            print(f"{name:<10} {model:<9} {100 * row['accuracy']:8.2f}% {100 * row['macro_f1']:8.2f}%{extra}")


if __name__ == "__main__":
    main()
