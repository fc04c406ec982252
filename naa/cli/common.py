"""What every ``naa`` command shares: the partner option, settings, and one-line errors."""

import contextlib
import errno
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from naa.config.partner import PartnerConfig, load_partner_config
from naa.config.settings import NAASettings
from naa.errors import NAAError
from naa.workspace import Workspace

DEMO_PARTNER = Path(__file__).resolve().parent.parent / "demo" / "partner.yaml"

PartnerOption = Annotated[
    Path | None,
    typer.Option("--partner", "-p", help="Partner YAML file. Default: the shipped demo partner."),
]

# Without markup: documents, titles, paths and error messages are printed as written, where rich markup
# would take "[draft]" for a style (and drop it) or stop at "[/uploads]" with an error. Styled words
# are given as ``style=`` or ``Text``.
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)


def command_group(help: str) -> typer.Typer:
    """A command group whose help text is shown as written (typer would read "[texts]" as markup)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


def load_partner(path: Path | None) -> PartnerConfig:
    """The partner file's config (the demo's without one). A ``generation.model`` of ``version:<name>`` is
    looked up among the partner's generator versions in the database the API uses (``NAASettings``)."""
    from naa.storage.model_versions import VERSION_PREFIX

    config = load_partner_config(path or DEMO_PARTNER)
    if not config.generator_model().startswith(VERSION_PREFIX):
        return config
    from naa.storage.partners import with_named_version
    from naa.storage.session import database_session

    with database_session(NAASettings.from_env().resolved_database_url()) as session:
        return with_named_version(session, config)


def workspace() -> Workspace:
    return Workspace(NAASettings.from_env().data_dir)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print an NAAError, or a file the command cannot read or write (OSError), as one line and exit 1: a
    user mistake deserves a message, not a traceback."""
    try:
        yield
    except NAAError as err:
        _error(str(err))
        raise typer.Exit(1) from err
    except OSError as err:
        _error(f"{err.strerror}: {err.filename}" if err.strerror and err.filename else str(err))
        raise typer.Exit(1) from err


def _error(message: str) -> None:
    err_console.print(Text("error: ", style="red") + Text(message))


def output_file(path: Path) -> Path:
    """Check, before a long command works, that it can write its result to ``path``: the parent folder is
    created, and a folder in the way is refused (OSError, which ``user_errors`` prints)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    return path


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float, str], None]]:
    """A rich progress bar driven by the (fraction, message) callbacks that long NAA jobs take."""
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
    ) as bar:
        task = bar.add_task(description, total=1.0)

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=f"{description}: {message}")

        yield update
