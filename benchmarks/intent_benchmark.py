"""Intent benchmark: the one training recipe on full Banking77 and CLINC150, on this machine's CPU.

Prints a table (accuracy, macro-F1, CLINC150 in-scope accuracy / out-of-scope recall / threshold,
training time, single-query latency) and writes benchmarks/results/intent.json.

    .venv/bin/python benchmarks/intent_benchmark.py [--data-dir ../shared/data] [--threads 1]

Seed variance: ``--datasets banking77 --seed 1 --out benchmarks/results/intent_seed1.json`` trains the same
recipe with another seed (initialisation, batch order and the held-out split).

Data: Banking77 (PolyAI, CC BY 4.0) and CLINC150 (Larson et al. 2019, CC BY 3.0) from ../shared/data.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Measured here: with other jobs on the same 2 cores, OpenMP's default spin-waiting made a training step
# 5x slower with 2 threads; passive waiting made 2 threads twice as fast as 1. Read once, at torch import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine import describe  # noqa: E402

from naa.eval.datasets import DATASETS, default_data_dir, load_dataset  # noqa: E402
from naa.eval.intent_eval import evaluate_intent  # noqa: E402
from naa.intent import EmbeddingIntentClassifier, EmbeddingIntentConfig  # noqa: E402
from naa.intent.lexical import LEXICAL_FILE, LexicalModel, load_lexical  # noqa: E402

LATENCY_QUERIES = 300


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(REPO))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "intent.json")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument(
        "--keep-models", type=Path, default=None, help="keep each trained model in DIR/<data set>"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument("--seed", type=int, default=EmbeddingIntentConfig().seed, help="the recipe's seed")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    config = EmbeddingIntentConfig(seed=args.seed)
    results: dict[str, Any] = {
        "recipe": config.model_dump(mode="json"),
        "machine": {**describe(), "torch_threads": torch.get_num_threads()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # Runs of one data set at a time update their own entry and keep the others.
        "datasets": _previous(args.out),
    }
    for name in args.datasets:
        with tempfile.TemporaryDirectory(prefix="naa-intent-bench-") as scratch:
            model_dir = args.keep_models / name if args.keep_models else Path(scratch) / "model"
            result, classifier = evaluate_intent(
                name, args.data_dir, model_dir, config, progress=_printer(name)
            )
            entry = result.to_dict()
            entry["latency_ms"] = _latency(classifier, name, args.data_dir)
            if (model_dir / LEXICAL_FILE).exists():  # its share of the latency above
                entry["lexical_latency_ms"] = _latency(load_lexical(model_dir), name, args.data_dir)
            entry["load_average_after"] = os.getloadavg()
            entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            entry["commit"] = _commit()
        results["datasets"][name] = entry
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    _print_table(results["datasets"])
    print(f"wrote {args.out}")


def _previous(out: Path) -> dict[str, Any]:
    if not out.exists():
        return {}
    datasets: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")).get("datasets", {})
    return datasets


def _commit() -> str:
    """The code the figures come from; "+dirty" when the working tree differed from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "naa/intent", "naa/eval", "benchmarks/intent_benchmark.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _printer(name: str):  # type: ignore[no-untyped-def]
    last = {"at": 0.0}

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last["at"] > 30 or fraction in (0.0, 1.0):
            last["at"] = now
            print(f"[{time.strftime('%H:%M:%S')}] {name} {100 * fraction:5.1f}% {message}", flush=True)

    return report


def _latency(model: EmbeddingIntentClassifier | LexicalModel, name: str, data_dir: Path) -> dict[str, float]:
    """Single-query latency over test queries, after a warm-up, as the assistant calls it: the classifier's
    predict(), or the n-gram model's log_probs() alone."""
    predict = model.predict if isinstance(model, EmbeddingIntentClassifier) else model.log_probs
    queries = [e.text for e in load_dataset(name, data_dir).test[:LATENCY_QUERIES]]
    for query in queries[:20]:
        predict([query])
    timings = []
    for query in queries:
        started = time.perf_counter()
        predict([query])
        timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p99": timings[int(0.99 * (len(timings) - 1))],
        "queries": len(timings),
    }


def _print_table(datasets: dict[str, Any]) -> None:
    header = (
        f"{'data set':<10} {'accuracy':>9} {'macro-F1':>9} {'in-scope':>9} {'oos rec.':>9} "
        f"{'threshold':>9} {'train s':>8} {'p50 ms':>7} {'p99 ms':>7} {'n-gram p50':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, entry in datasets.items():
        m = entry["metrics"]
        oos = "-" if m["oos_recall"] is None else f"{100 * m['oos_recall']:.2f}%"
        in_scope = "-" if m["oos_recall"] is None else f"{100 * m['in_scope_accuracy']:.2f}%"
        lexical = entry.get("lexical_latency_ms")
        ngram = "-" if lexical is None else f"{lexical['p50']:.1f}"
        print(
            f"{name:<10} {100 * m['accuracy']:8.2f}% {100 * m['macro_f1']:8.2f}% {in_scope:>9} {oos:>9} "
            f"{entry['threshold']:9.3f} {entry['train']['train_seconds']:8.0f} "
            f"{entry['latency_ms']['p50']:7.1f} {entry['latency_ms']['p99']:7.1f} {ngram:>10}"
        )


if __name__ == "__main__":
    main()
