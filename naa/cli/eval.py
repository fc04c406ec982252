"""`naa eval` commands: score NAA's components on public data sets."""

import json
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from naa.cli.common import console, progress_bar, user_errors

app = typer.Typer(help="Evaluate NAA's components on public data sets.", no_args_is_help=True)

# The data sets live beside the checkout (../shared/data), the same path in CI.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@app.command()
def intent(
    dataset: Annotated[
        Literal["banking77", "clinc150"], typer.Option("--dataset", help="Data set to train and test on.")
    ],
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder holding the data sets.")
    ] = DEFAULT_DATA_DIR,
    out: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")] = None,
    limit_train: Annotated[
        int | None, typer.Option("--limit-train", min=2, help="Train on at most N examples (a quick check).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Override the recipe's epochs.")
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option("--model-dir", help="Keep the trained model here. Default: a temporary folder."),
    ] = None,
) -> None:
    """Train the intent recipe on a data set and report test accuracy, macro-F1 and out-of-scope figures."""
    from naa.eval.intent_eval import evaluate_intent
    from naa.intent import EmbeddingIntentConfig

    config = EmbeddingIntentConfig() if epochs is None else EmbeddingIntentConfig(epochs=epochs)
    with (
        user_errors(),
        tempfile.TemporaryDirectory(prefix="naa-eval-") as scratch,
        progress_bar(f"train on {dataset}") as report,
    ):
        result, _ = evaluate_intent(
            dataset, data_dir, model_dir or Path(scratch) / "model", config, limit_train, report
        )
    metrics = result.metrics
    table = Table(title=f"intent classification, {dataset} test ({result.test_queries} queries)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("accuracy (top intent)", f"{100 * metrics.accuracy:.2f}%")
    table.add_row("macro-F1", f"{100 * metrics.macro_f1:.2f}%")
    if metrics.oos_recall is not None:
        table.add_row("in-scope accuracy (right and accepted)", f"{100 * metrics.in_scope_accuracy:.2f}%")
        table.add_row("out-of-scope recall", f"{100 * metrics.oos_recall:.2f}%")
    table.add_row("threshold", f"{result.threshold:.3f} ({result.train.calibration})")
    table.add_row("training time", f"{result.train.train_seconds:.0f} s")
    console.print(table)
    if out is not None:
        out.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        console.print(f"wrote {out}")
