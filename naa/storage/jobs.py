"""Background jobs (indexing, training, evaluation): their status and progress, scoped to one partner.

The database, not Celery's result backend, is where a job's state lives: the API reads it here, a worker
that dies leaves the row for a redelivered task to pick up, and a cancel is a status the task sees between
batches. A queued job is cancelled at once; a running one is ``cancelling`` until its task stops and
records it ``cancelled``, so ``cancelled`` means nothing runs any more. Cancelling is best-effort: a job
that finishes its work before it looks again is recorded as succeeded, because its output has been written.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from naa.errors import ConflictError, NotFoundError
from naa.storage.models import Job, JobKind, JobStatus, utcnow
from naa.storage.session import lock_row


def create_job(
    session: Session, partner_id: str, kind: JobKind, params: Mapping[str, Any] | None = None
) -> Job:
    """A queued job; ``params`` must be JSON-able, since the task receives the same values."""
    job = Job(partner_id=partner_id, kind=JobKind(kind), params=dict(params or {}))
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, partner_id: str, job_id: str, *, kind: JobKind | None = None) -> Job:
    """The partner's job; with ``kind``, a job of another kind is not found either (a route's own jobs)."""
    query = select(Job).where(Job.id == job_id, Job.partner_id == partner_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    job = session.scalar(query)
    if job is None:
        raise NotFoundError(f"{'job' if kind is None else kind.value + ' job'} {job_id!r} does not exist")
    return job


def list_jobs(
    session: Session, partner_id: str, *, kind: JobKind | None = None, limit: int = 50, offset: int = 0
) -> list[Job]:
    """Newest first."""
    query = select(Job).where(Job.partner_id == partner_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)))


UNFINISHED = [status for status in JobStatus if not status.finished]


def unfinished_jobs(session: Session, partner_id: str, *, kind: JobKind | None = None) -> list[Job]:
    """Queued, running and cancelling jobs, oldest first."""
    query = select(Job).where(Job.partner_id == partner_id, Job.status.in_(UNFINISHED))
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query.order_by(Job.created_at, Job.id)))


def start_job(session: Session, partner_id: str, job_id: str) -> Job:
    """Mark the job running, unless it already finished (the caller then skips the work).

    A running job starts again from zero: with ``acks_late`` a task whose worker died is delivered again.
    """
    job = _locked_job(session, partner_id, job_id)
    if job.status is JobStatus.CANCELLING:  # its worker died before it stopped: nothing runs any more
        _record_cancelled(job)
    elif not job.status.finished:
        job.status = JobStatus.RUNNING
        job.progress = 0.0
        job.started_at = utcnow()
        session.flush()
    return job


def update_progress(
    session: Session, partner_id: str, job_id: str, progress: float, message: str = ""
) -> JobStatus:
    """Record progress (clamped to 0..1) of a running job; returns the status, so a task sees a cancel.

    A cancelling job's progress still moves (an RL run finishes and checkpoints its current step), while its
    message keeps saying it is cancelling."""
    job = _locked_job(session, partner_id, job_id)
    if job.status in (JobStatus.RUNNING, JobStatus.CANCELLING):
        job.progress = min(1.0, max(0.0, progress))
        if job.status is JobStatus.RUNNING:
            job.message = message[:500]
        session.flush()
    return job.status


def succeed_job(
    session: Session, partner_id: str, job_id: str, result: Mapping[str, Any] | None = None
) -> Job:
    job = _locked_job(session, partner_id, job_id)
    if job.status is JobStatus.SUCCEEDED:
        return job
    job.status = JobStatus.SUCCEEDED
    job.progress = 1.0
    job.message = "done"
    job.result = dict(result or {})
    job.error = None
    job.finished_at = utcnow()
    session.flush()
    return job


def fail_job(session: Session, partner_id: str, job_id: str, error: str) -> Job:
    """Record why a job failed; a cancelled or finished job keeps its status."""
    job = _locked_job(session, partner_id, job_id)
    if not job.status.finished:
        job.status = JobStatus.FAILED
        job.error = error
        job.message = error.splitlines()[0][:500] if error else "failed"
        job.finished_at = utcnow()
        session.flush()
    return job


def cancel_job(session: Session, partner_id: str, job_id: str, *, kind: JobKind | None = None) -> Job:
    """Cancel a queued job, or ask a running one to stop: it is ``cancelling`` until its task stops.

    A queued job's task still runs, sees the job cancelled and skips the work: that is where the task
    records what a cancel means for it (an upload's documents marked failed), so its message is not
    revoked.
    """
    job = _locked_job(session, partner_id, job_id, kind=kind)
    if job.status.finished:
        raise ConflictError(f"job {job_id!r} already {job.status.value}; nothing to cancel")
    if job.status is JobStatus.QUEUED:
        _record_cancelled(job)
    elif job.status is JobStatus.RUNNING:
        job.status = JobStatus.CANCELLING
        job.message = "cancelling: stops at its next check"
    session.flush()
    return job


def confirm_cancelled(session: Session, partner_id: str, job_id: str) -> Job:
    """Record that the task of a cancelling job has stopped."""
    job = _locked_job(session, partner_id, job_id)
    if job.status is JobStatus.CANCELLING:
        _record_cancelled(job)
        session.flush()
    return job


def _record_cancelled(job: Job) -> None:
    job.status = JobStatus.CANCELLED
    job.message = "cancelled"
    job.finished_at = utcnow()


def _locked_job(session: Session, partner_id: str, job_id: str, *, kind: JobKind | None = None) -> Job:
    """The job, read after locking its row until the caller's transaction ends.

    Status changes are read-then-write, and the API (cancel) and a worker (start, progress, finish) make
    them at the same moment: unlocked, both read "queued" and the later write wins, so a cancel could be
    overwritten by the start and the run finish as succeeded. The read after the lock refreshes the row.
    """
    lock_row(session, Job.updated_at, job_id)
    job = get_job(session, partner_id, job_id, kind=kind)
    session.refresh(job)
    return job
