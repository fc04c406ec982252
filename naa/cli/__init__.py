"""The ``naa`` command: one Typer sub-app per area, assembled here.

Heavy imports (torch, transformers, faiss) happen inside commands so that ``naa --help`` stays instant.
"""

import os

import typer

from naa.cli import chat, eval, intent, kb, rl, serve

app = typer.Typer(help="NAA: customer-service neural agent assistant.", no_args_is_help=True)
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
    app()
