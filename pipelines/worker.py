"""A worker process beside the API, for the embedded default (``naa serve`` starts one; nothing else to run).

The worker is a separate process, not a thread of the API: indexing and training hold the CPU for
seconds to minutes and would stall request handling under the GIL. It gets the API's settings through
``NAA_`` variables, so both sides use the same database, broker and data dir.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from sqlalchemy import create_engine, inspect, select, text

from naa.config.settings import NAASettings
from naa.storage.jobs import UNFINISHED
from naa.storage.models import Job
from naa.storage.session import database_session
from pipelines.celery_app import CPU_QUEUE, broker_urls

logger = logging.getLogger(__name__)

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


def requeue_cut_short(settings: NAASettings) -> int:
    """Deliver again the embedded broker's messages of jobs a stopped worker had taken and not finished;
    how many. Call it before the workers start, when no worker holds a message.

    kombu's SQLAlchemy transport hides a message when a worker takes it and never shows it again, acked or
    not (it has no visibility timeout, unlike Redis, ``pipelines.leases``): a job whose worker was killed
    (``naa serve`` stopped past STOP_TIMEOUT_S, a crash) stayed ``running`` and never ran again, and its
    partner could not be deleted. The task id is the job id; the job's row says whether it ended.
    """
    if settings.broker_url is not None:
        return 0
    broker, _ = broker_urls(settings)
    engine = create_engine(broker.removeprefix("sqla+"))
    try:
        if not inspect(engine).has_table("kombu_message"):
            return 0
        with engine.begin() as connection:
            hidden = connection.execute(text("SELECT id, payload FROM kombu_message WHERE visible = 0")).all()
            task_ids = {row.id: json.loads(row.payload).get("headers", {}).get("id") for row in hidden}
            with database_session(settings.resolved_database_url()) as session:
                unfinished = set(
                    session.scalars(
                        select(Job.id).where(
                            Job.id.in_([i for i in task_ids.values() if i]),
                            Job.status.in_(UNFINISHED),
                        )
                    )
                )
            again = [message for message, task_id in task_ids.items() if task_id in unfinished]
            if again:
                connection.execute(
                    text("UPDATE kombu_message SET visible = 1 WHERE id = :id"), [{"id": i} for i in again]
                )
    finally:
        engine.dispose()
    if again:
        logger.warning("%d job(s) cut short when the workers last stopped are queued again", len(again))
    return len(again)
