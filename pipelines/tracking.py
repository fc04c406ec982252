"""Runs a task's work as a job: status, throttled progress and cancellation, all recorded in the jobs table.

Each write is its own short transaction, so the API sees progress while the work runs. The work reports
through a ``JobProgress``; once the job has been asked to stop (``cancelling``), the next report raises
``JobCancelled``, which aborts the work between two batches, and the job is recorded ``cancelled``.
Components write their files only when they finish, so an aborted run leaves the previous index or model
in place. A stage that reports 1.0 has written its output, so that report never raises: the task then
records what it wrote.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Task

from naa.errors import NAAError
from naa.storage import jobs
from naa.storage.models import JobStatus
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery, naa_app

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# Writing every callback would make the database the bottleneck of a fast index; twice a second is enough.
PROGRESS_INTERVAL_S = 0.5
MAX_RETRIES = 3


class JobCancelled(Exception):
    """Raised inside the work when the job's row says cancelling; never leaves ``run_job``."""


class JobProgress:
    """Progress of one job, written to its row at most every ``PROGRESS_INTERVAL_S`` seconds."""

    def __init__(self, app: NAACelery, partner_id: str, job_id: str) -> None:
        self._app = app
        self._partner_id = partner_id
        self._job_id = job_id
        self._last_write = 0.0

    def __call__(self, fraction: float, message: str, *, cancellable: bool = True) -> None:
        now = time.monotonic()
        if now - self._last_write < PROGRESS_INTERVAL_S:
            return
        self._last_write = now
        with session_scope(self._app.session_factory()) as session:
            status = jobs.update_progress(session, self._partner_id, self._job_id, fraction, message)
        if status is JobStatus.CANCELLING and cancellable:
            raise JobCancelled(self._job_id)

    def cancelled(self) -> bool:
        """Whether the job has been asked to stop, read now: reports read it at most twice a second, so work
        whose checkpoints come faster (short training steps) would otherwise finish a cancelled job."""
        with session_scope(self._app.session_factory()) as session:
            return jobs.get_job(session, self._partner_id, self._job_id).status is JobStatus.CANCELLING

    def stage(self, start: float, end: float, label: str) -> Progress:
        """A callback for one component call, mapping its own 0..1 onto ``start..end`` of the job."""

        def report(fraction: float, message: str) -> None:
            self(start + (end - start) * fraction, f"{label}: {message}", cancellable=fraction < 1.0)

        return report


def run_job(
    task: Task, partner_id: str, job_id: str, work: Callable[[JobProgress], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``work`` for a job and record how it ends; a job already finished is not run again.

    Errors marked retryable (a model server down) are retried up to ``MAX_RETRIES`` times; any other
    error marks the job failed with its message and is raised again, so Celery records the failure too.
    """
    app = naa_app(task)
    factory = app.session_factory()
    with session_scope(factory) as session:
        status = jobs.start_job(session, partner_id, job_id).status
    if status is not JobStatus.RUNNING:
        logger.info("job %s is %s; not running it again", job_id, status.value)
        return {"skipped": status.value}
    try:
        result = work(JobProgress(app, partner_id, job_id))
    except JobCancelled:
        with session_scope(factory) as session:
            jobs.confirm_cancelled(session, partner_id, job_id)
        logger.info("job %s cancelled", job_id)
        return {"cancelled": True}
    except NAAError as err:
        if err.retryable and task.request.retries < MAX_RETRIES:
            with session_scope(factory) as session:
                jobs.update_progress(session, partner_id, job_id, 0.0, f"retrying: {err}")
            raise task.retry(exc=err, countdown=10 * 2**task.request.retries) from err
        _record_failure(factory, partner_id, job_id, str(err))
        raise
    except Exception as err:
        _record_failure(factory, partner_id, job_id, public_error(err))
        raise
    with session_scope(factory) as session:
        jobs.succeed_job(session, partner_id, job_id, result)
    return result


def public_error(err: Exception) -> str:
    """What a job's owner is told of an error: NAA's own errors say what to do; any other (a bug, a database
    failure) is named by its type only, as its text can hold SQL, parameters or server paths; Celery logs it
    with its traceback."""
    if isinstance(err, NAAError):
        return str(err)
    return f"the job failed on an unexpected {type(err).__name__}; the details are in the worker's log"


def _record_failure(factory: Any, partner_id: str, job_id: str, error: str) -> None:
    with session_scope(factory) as session:
        jobs.fail_job(session, partner_id, job_id, error)
