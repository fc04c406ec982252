"""What every ``naa`` command shares: the partner option, settings, and one-line errors."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from naa.config.partner import PartnerConfig, load_partner_config
from naa.config.settings import NAASettings
from naa.errors import NAAError
from naa.workspace import Workspace

DEMO_PARTNER = Path(__file__).resolve().parent.parent / "demo" / "partner.yaml"

PartnerOption = Annotated[
    Path | None,
    typer.Option("--partner", "-p", help="Partner YAML file. Default: the shipped demo partner."),
]

console = Console()
err_console = Console(stderr=True)


def load_partner(path: Path | None) -> PartnerConfig:
    return load_partner_config(path or DEMO_PARTNER)


def workspace() -> Workspace:
    return Workspace(NAASettings().data_dir)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print an NAAError as one line and exit 1: a user mistake deserves a message, not a traceback."""
    try:
        yield
    except NAAError as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from err


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float, str], None]]:
    """A rich progress bar driven by the (fraction, message) callbacks that long NAA jobs take."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
    ) as bar:
        task = bar.add_task(description, total=1.0)

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=f"{description}: {message}")

        yield update
