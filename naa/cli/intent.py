"""`naa intent` commands."""

import typer

app = typer.Typer(help="intent commands.", no_args_is_help=True)
