"""A worker process beside the API, for the embedded default (``naa serve`` starts one; nothing else to run).

The worker is a separate process, not a thread of the API: indexing and training hold the CPU for
seconds to minutes and would stall request handling under the GIL. It gets the API's settings through
``NAA_`` variables, so both sides use the same database, broker and data dir.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from naa.config.settings import NAASettings
from pipelines.celery_app import CPU_QUEUE, broker_urls

STOP_TIMEOUT_S = 30.0


def worker_environment(settings: NAASettings) -> dict[str, str]:
    """The ``NAA_`` variables that make a worker process see what ``settings`` describes."""
    broker, backend = broker_urls(settings)
    return {
        "NAA_DATA_DIR": str(settings.data_dir.resolve()),
        "NAA_DATABASE_URL": settings.resolved_database_url(),
        "NAA_BROKER_URL": broker,
        "NAA_RESULT_BACKEND": backend,
    }


def start_worker_process(
    settings: NAASettings, queues: Sequence[str] = (CPU_QUEUE,), loglevel: str = "WARNING"
) -> subprocess.Popen[bytes]:
    """Start ``celery -A pipelines.celery_app worker`` on ``queues``, one job at a time.

    Stop it with ``stop_worker_processes``.
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
        f"embedded-{'-'.join(queues)}-{os.getpid()}@%h",  # unique among the workers one API starts
    ]
    return subprocess.Popen(command, env={**os.environ, **worker_environment(settings)})


def stop_worker_processes(
    processes: Sequence[subprocess.Popen[bytes]], timeout_s: float = STOP_TIMEOUT_S
) -> list[int]:
    """Warm shutdown of all at once: running tasks may finish. Past the timeout a worker is killed, and its
    task, acknowledged only at the end (acks_late), goes back to the queue for the next worker."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return [process.returncode for process in processes]
