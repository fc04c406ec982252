"""Every `naa` command and group answers --help with its usage and a description, without running."""

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from naa.cli import app

ROOT = typer.main.get_command(app)


def _paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():  # a group's sub-commands
        found += _paths(sub, (*path, name))
    return found


COMMANDS = _paths(ROOT)


def test_the_tree_holds_every_area() -> None:
    assert {p[0] for p in COMMANDS if p} >= {"kb", "intent", "eval", "rl", "chat", "ask", "serve", "build"}
    assert ("rl", "warmup") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "naa")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = ROOT
    for name in path:
        command = command.commands[name]
    assert command.help or command.short_help, f"naa {' '.join(path)} has no description"


def test_help_text_is_shown_as_written_and_the_version_is_printed() -> None:
    assert "YAML intent: [texts]" in CliRunner().invoke(app, ["intent", "train", "--help"]).output
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("naa ")
