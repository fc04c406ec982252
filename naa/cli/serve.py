"""`naa serve` and `naa build`: prepare a partner's models and index, then run the API."""

from typing import Annotated

import typer

from naa.cli.common import PartnerOption, console, load_partner, progress_bar, user_errors
from naa.config.settings import NAASettings
from naa.workspace import Workspace


def build(
    partner: PartnerOption = None,
    force: Annotated[
        bool, typer.Option(help="Rebuild the intent model and index even if they exist.")
    ] = False,
) -> None:
    """Train the partner's intent model, index its knowledge base and prepare its generator."""
    from naa.builder import build_partner

    with user_errors():
        config = load_partner(partner)
        with progress_bar(f"building {config.id}") as update:
            ran = build_partner(config, Workspace(NAASettings().data_dir), update, missing_only=not force)
        console.print(f"built {config.id}: {', '.join(ran)}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Build the shipped demo partner first (skipped when built).")
    ] = True,
) -> None:
    """Run the NAA API (and the web console) on the embedded defaults."""
    import uvicorn

    from api.main import create_app
    from naa.builder import build_partner

    settings = NAASettings()
    with user_errors():
        if demo:
            config = load_partner(None)
            with progress_bar("building the demo partner") as update:
                build_partner(config, Workspace(settings.data_dir), update, missing_only=True)
        app = create_app(settings)
    console.print(f"NAA API on http://{host}:{port}  (OpenAPI docs: http://{host}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
