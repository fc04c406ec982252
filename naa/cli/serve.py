"""`naa serve` and `naa build`: prepare a partner's models and index, then run the API."""

import signal
import socket
from typing import Annotated

import typer

from naa.cli.common import (
    DEMO_PARTNER,
    PartnerOption,
    console,
    load_partner,
    progress_bar,
    user_errors,
    workspace,
)
from naa.config.settings import NAASettings
from naa.errors import InputError
from naa.workspace import Workspace


def build(
    partner: PartnerOption = None,
    force: Annotated[bool, typer.Option(help="Rebuild the intent model and index if present.")] = False,
) -> None:
    """Train the partner's intent model, index its knowledge base and prepare its generator."""
    from naa.builder import build_partner

    with user_errors():
        config = load_partner(partner)
        with progress_bar(f"building {config.id}") as update:
            ran = build_partner(config, workspace(), update, missing_only=not force)
        console.print(f"built {config.id}: {', '.join(ran)}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Build and register the shipped demo partner first.")] = True,
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key", help="Print a new demo API key and revoke the one printed before (if it was lost)."
        ),
    ] = False,
    worker: Annotated[
        bool,
        typer.Option(
            help="Start Celery workers beside the API, one per queue (the embedded default's job runners)."
        ),
    ] = True,
) -> None:
    """Run the NAA API and web console, with a job worker, on the embedded defaults."""
    import uvicorn

    from api.main import CONSOLE_DIR, create_app
    from api.onboarding import register_partner_file
    from naa.builder import build_partner
    from pipelines.celery_app import CPU_QUEUE, GPU_QUEUE
    from pipelines.worker import requeue_cut_short, start_worker_process, stop_worker_processes

    with user_errors():
        settings = NAASettings.from_env()
        listener = _listen(host, port)
        key = None
        if demo:
            with progress_bar("building the demo partner") as update:
                build_partner(load_partner(None), Workspace(settings.data_dir), update, missing_only=True)
            key = register_partner_file(settings, DEMO_PARTNER, new_key=new_key)
        app = create_app(settings)
        # Before the workers start, so none holds a message: the jobs the last stop cut short run again.
        requeued = requeue_cut_short(settings) if worker else 0
    # A worker per queue: an RL run (gpu queue, hours, on whatever device the machine has) must not hold
    # up knowledge-base indexing and intent training (cpu queue) for its whole length.
    jobs = (
        [start_worker_process(settings, queues=(queue,)) for queue in (CPU_QUEUE, GPU_QUEUE)]
        if worker
        else []
    )
    if requeued:
        console.print(f"Jobs:        {requeued} cut short at the last stop, queued again")
    url = f"http://{host}:{port}"
    console.print(f"NAA API:     {url}/v1  (OpenAPI docs: {url}/docs)")
    if CONSOLE_DIR.is_dir():
        console.print(f"Web console: {url}/")
    else:
        console.print("Web console: not built; `make run` builds it (npm run build in frontend/)")
    if key:
        console.print(f"Demo API key (shown once): {key}")
    elif demo:
        console.print("Demo API key: the one printed at the first start (`naa serve --new-key` replaces it)")
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then re-raises the signal to the handler it
    # replaced: Python's default for SIGTERM ends the process at once, before the job worker is stopped
    # below, which would leave it running. As KeyboardInterrupt, SIGTERM takes the same way out as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        pass  # stopped by a signal, after a graceful shutdown: a normal exit
    finally:
        listener.close()
        stop_worker_processes(jobs)
    if not server.started:  # the app failed to start; uvicorn has logged why
        raise typer.Exit(1)


def _listen(host: str, port: int) -> socket.socket:
    """The API's socket, bound before anything is built or printed: a port in use is said at once, not
    after the URL and the demo key of a server that never started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as err:
        raise InputError(
            f"cannot listen on {host}:{port}: {err.strerror}; stop what uses that port or choose another "
            "with --port"
        ) from err
