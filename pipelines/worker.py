"""A worker process beside the API, for the embedded default (``naa serve`` starts one; nothing else to run).

The worker is a separate process, not a thread of the API: indexing and training hold the CPU for
seconds to minutes and would stall request handling under the GIL. It gets the API's settings through
``NAA_`` variables, so both sides use the same database, broker and data dir.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from naa.config.settings import NAASettings
from pipelines.celery_app import CPU_QUEUE, broker_urls

STOP_TIMEOUT_S = 30.0


def worker_environment(settings: NAASettings) -> dict[str, str]:
    """The ``NAA_`` variables that make a worker process see what ``settings`` describes."""
    broker, backend = broker_urls(settings)
    env = {
        "NAA_DATA_DIR": str(settings.data_dir.resolve()),
        "NAA_DATABASE_URL": settings.resolved_database_url(),
        "NAA_BROKER_URL": broker,
        "NAA_RESULT_BACKEND": backend,
    }
    if settings.partners_dir is not None:
        env["NAA_PARTNERS_DIR"] = str(settings.partners_dir.resolve())
    return env


def start_worker_process(
    settings: NAASettings, queues: Sequence[str] = (CPU_QUEUE,), loglevel: str = "WARNING"
) -> subprocess.Popen[bytes]:
    """Start ``celery -A pipelines.celery_app worker`` on ``queues``, one job at a time.

    Stop it with ``stop_worker_process``.
    """
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pipelines.celery_app",
        "worker",
        "--queues",
        ",".join(queues),
        "--pool",
        "solo",
        "--loglevel",
        loglevel,
        "--hostname",
        f"embedded-{os.getpid()}@%h",
    ]
    return subprocess.Popen(command, env={**os.environ, **worker_environment(settings)})


def stop_worker_process(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> int:
    """Warm shutdown: the running task may finish. Past the timeout the worker is killed, and its task,
    acknowledged only at the end (acks_late), goes back to the queue for the next worker."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
