"""`naa intent` commands: train a partner's intent classifier and try it on a message."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from naa.cli.common import (
    PartnerOption,
    command_group,
    console,
    load_partner,
    progress_bar,
    user_errors,
    workspace,
)
from naa.errors import InputError

app = command_group("Train and try a partner's intent classifier.")

ModelDirOption = Annotated[
    Path | None,
    typer.Option("--model-dir", help="Trained model folder. Default: the partner's folder in the data dir."),
]


@app.command()
def train(
    partner: PartnerOption = None,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples",
            help="Training file (YAML intent: [texts] or CSV text,intent). Default: the partner's.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model folder. Default: the partner's folder in the data dir."),
    ] = None,
) -> None:
    """Fine-tune the intent classifier on labelled examples; the old model stays until the new one is in."""
    from naa.errors import ConfigError
    from naa.intent import read_examples, train_intent_classifier

    with user_errors():
        config = load_partner(partner)
        intent = config.builtin_intent()
        source = examples or intent.examples
        if source is None:
            raise ConfigError(
                "no intent examples: pass --examples FILE or set intent.examples in the partner file"
            )
        labelled = read_examples(source)
        model_dir = out or workspace().intent_dir(config.id)
        with progress_bar("train intent") as report:
            result = train_intent_classifier(intent, labelled, model_dir, progress=report)
    console.print(
        f"trained {result.intents} intents on {result.train_examples} examples "
        f"in {result.train_seconds:.0f} s; "
        f"held-out accuracy {_percent(result.held_out_accuracy)}, threshold {result.threshold:.3f} "
        f"({result.calibration}), n-gram model weight {result.lexical_weight}; saved to {result.model_dir}"
    )


@app.command()
def predict(
    text: Annotated[str, typer.Argument(help="A customer message.")],
    partner: PartnerOption = None,
    model_dir: ModelDirOption = None,
) -> None:
    """Show the top intents of one message with their calibrated confidence (from the partner's plugin
    classifier, when it names one)."""
    from naa.assistant import build_classifier
    from naa.intent import IntentClassifier, load_intent_classifier

    with user_errors():
        if not text.strip():
            raise InputError("the message is empty: give the words a customer might use")
        config = load_partner(partner)
        classifier: IntentClassifier
        if model_dir is None:
            classifier = build_classifier(config, workspace())
        else:
            classifier = load_intent_classifier(config.builtin_intent(), model_dir)
        classifier.warm_up()
        prediction = classifier.predict([text])[0]
    verdict = "out of scope" if prediction.out_of_scope else "accepted"
    table = Table(
        title=f"intent: {prediction.label} (confidence {prediction.confidence:.3f}, {verdict})",
        caption="title: the confidence the threshold is applied to; per intent: calibrated class probability",
    )
    table.add_column("intent")
    table.add_column("confidence", justify="right")
    for score in prediction.top:
        table.add_row(score.label, f"{score.confidence:.3f}")
    console.print(table)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
