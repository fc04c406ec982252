"""The ``naa`` command: one Typer sub-app per area, assembled here.

Heavy imports (torch, transformers, faiss) happen inside commands so that ``naa --help`` stays instant.
"""

import os
from importlib.metadata import version
from typing import Annotated

import typer

from naa.cli import chat, eval, intent, kb, rl, serve
from naa.cli.common import command_group, console

app = command_group("NAA: customer-service neural agent assistant.")


def _print_version(wanted: bool) -> None:
    if wanted:
        console.print(f"naa {version('naa')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """NAA: customer-service neural agent assistant."""


app.add_typer(kb.app, name="kb")
app.add_typer(intent.app, name="intent")
app.add_typer(eval.app, name="eval")
app.add_typer(rl.app, name="rl")
app.command("chat")(chat.chat)
app.command("ask")(chat.ask)
app.command("serve")(serve.serve)
app.command("build")(serve.build)


def main() -> None:
    # Spinning OpenMP threads steal the other core from tokenizers, the API and the job worker: on 2 busy
    # cores a training step ran 5x slower without this (measured). Read once, when torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # transformers' per-load progress bars and notices (e.g. "Loading weights", "loss_type=None") would
    # interleave with the streamed replies and NAA's own progress; set these variables to see them again.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # NAA never downloads a model (README): a hub id must be in the local cache, and a mistyped model name
    # fails at once instead of after about 50 s of retries against a hub it cannot reach.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()
