"""Job status and progress: the lifecycle a task records and the API shows."""

import threading
import uuid

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from naa.errors import ConflictError, NotFoundError
from naa.storage.jobs import (
    cancel_job,
    confirm_cancelled,
    create_job,
    fail_job,
    get_job,
    list_jobs,
    start_job,
    succeed_job,
    update_progress,
)
from naa.storage.models import Job, JobKind, JobStatus
from naa.storage.partners import create_partner, get_partner
from naa.storage.session import make_session_factory, session_scope


def test_job_goes_queued_running_succeeded(session: Session, two_partners: tuple[str, str]) -> None:
    job = create_job(session, "acme", JobKind.KB_INDEX, {"kb_name": "help", "paths": ["a.md"]})
    assert (job.status, job.progress, job.params["kb_name"]) == (JobStatus.QUEUED, 0.0, "help")
    assert start_job(session, "acme", job.id).status is JobStatus.RUNNING
    assert update_progress(session, "acme", job.id, 1.7, "embedding chunks") is JobStatus.RUNNING
    assert (job.progress, job.message) == (1.0, "embedding chunks")
    update_progress(session, "acme", job.id, 0.4)
    done = succeed_job(session, "acme", job.id, {"chunks": 12})
    assert (done.status, done.progress, done.result) == (JobStatus.SUCCEEDED, 1.0, {"chunks": 12})
    assert done.started_at is not None and done.finished_at is not None
    assert done.finished_at >= done.started_at


def test_a_queued_job_is_cancelled_at_once_and_never_started(
    session: Session, two_partners: tuple[str, str]
) -> None:
    job = create_job(session, "acme", JobKind.INTENT_TRAIN)
    cancelled = cancel_job(session, "acme", job.id)
    assert (cancelled.status, cancelled.message) == (JobStatus.CANCELLED, "cancelled")
    assert cancelled.finished_at is not None
    assert start_job(session, "acme", job.id).status is JobStatus.CANCELLED
    assert fail_job(session, "acme", job.id, "interrupted").status is JobStatus.CANCELLED
    with pytest.raises(ConflictError, match="cancelled"):
        cancel_job(session, "acme", job.id)


def test_a_running_job_is_cancelling_until_its_task_stops(
    session: Session, two_partners: tuple[str, str]
) -> None:
    # It showed cancelled (and finished) at once, while its task still held the worker for a whole step.
    job = create_job(session, "acme", JobKind.RL_TRAIN)
    start_job(session, "acme", job.id)
    asked = cancel_job(session, "acme", job.id)
    assert (asked.status, asked.finished_at) == (JobStatus.CANCELLING, None)
    assert not asked.status.finished
    assert cancel_job(session, "acme", job.id).status is JobStatus.CANCELLING  # asking again changes nothing
    # The step it finishes before it stops counts; its message keeps saying it is cancelling.
    assert update_progress(session, "acme", job.id, 0.5, "step 4") is JobStatus.CANCELLING
    assert (asked.progress, asked.message) == (0.5, "cancelling: stops at its next check")
    stopped = confirm_cancelled(session, "acme", job.id)
    assert (stopped.status, stopped.message) == (JobStatus.CANCELLED, "cancelled")
    assert stopped.finished_at is not None


def _cancelling_job(session: Session) -> Job:
    job = create_job(session, "acme", JobKind.KB_INDEX)
    start_job(session, "acme", job.id)
    return cancel_job(session, "acme", job.id)


def test_a_cancelling_job_whose_worker_died_is_cancelled_when_redelivered(
    session: Session, two_partners: tuple[str, str]
) -> None:
    job = _cancelling_job(session)
    redelivered = start_job(session, "acme", job.id)
    assert (redelivered.status, redelivered.finished_at is not None) == (JobStatus.CANCELLED, True)


def test_a_cancelling_job_that_finishes_its_work_first_has_succeeded(
    session: Session, two_partners: tuple[str, str]
) -> None:
    job = _cancelling_job(session)
    assert succeed_job(session, "acme", job.id, {"chunks": 3}).status is JobStatus.SUCCEEDED
    assert confirm_cancelled(session, "acme", job.id).status is JobStatus.SUCCEEDED


def test_failed_job_keeps_the_error(session: Session, two_partners: tuple[str, str]) -> None:
    job = create_job(session, "acme", JobKind.KB_INDEX)
    start_job(session, "acme", job.id)
    failed = fail_job(session, "acme", job.id, "no such file: a.md\ntraceback...")
    assert (failed.status, failed.message) == (JobStatus.FAILED, "no such file: a.md")
    assert failed.error is not None and "traceback" in failed.error
    with pytest.raises(ConflictError):
        cancel_job(session, "acme", job.id)


def test_jobs_are_invisible_to_other_partners(session: Session, two_partners: tuple[str, str]) -> None:
    job = create_job(session, "acme", JobKind.RL_TRAIN)
    create_job(session, "acme", JobKind.KB_INDEX)
    with pytest.raises(NotFoundError):
        get_job(session, "globex", job.id)
    with pytest.raises(NotFoundError):
        cancel_job(session, "globex", job.id)
    assert get_job(session, "acme", job.id).status is JobStatus.QUEUED
    assert list_jobs(session, "globex") == []
    assert [j.kind for j in list_jobs(session, "acme", kind=JobKind.RL_TRAIN)] == [JobKind.RL_TRAIN]


def test_a_job_of_another_kind_is_not_found_when_a_kind_is_asked(
    session: Session, two_partners: tuple[str, str]
) -> None:
    job = create_job(session, "acme", JobKind.KB_INDEX)
    assert get_job(session, "acme", job.id, kind=JobKind.KB_INDEX).id == job.id
    with pytest.raises(NotFoundError, match="rl_train job"):
        get_job(session, "acme", job.id, kind=JobKind.RL_TRAIN)
    with pytest.raises(NotFoundError):
        cancel_job(session, "acme", job.id, kind=JobKind.RL_TRAIN)
    assert get_job(session, "acme", job.id).status is JobStatus.QUEUED


def test_a_cancel_made_while_a_worker_starts_the_job_is_not_lost(engine: Engine) -> None:
    """The API cancels between the worker's read of the queued job and its write of "running": the cancel
    waits for the worker's transaction and then wins, instead of being overwritten by the start."""
    sessions = make_session_factory(engine)
    partner_id = f"race-{uuid.uuid4().hex[:8]}"  # committed rows: an id no other test uses
    with session_scope(sessions) as session:
        create_partner(session, partner_id, "Race")
        job_id = create_job(session, partner_id, JobKind.RL_TRAIN).id

    def cancel() -> None:
        with session_scope(sessions) as session:
            cancel_job(session, partner_id, job_id)

    canceller = threading.Thread(target=cancel)
    try:
        with session_scope(sessions) as worker:

            @event.listens_for(worker, "before_flush")
            def cancel_now(*_: object) -> None:  # start_job has read the job and set it running
                if not canceller.is_alive() and canceller.ident is None:
                    canceller.start()
                    canceller.join(timeout=1.0)  # done at once, had the read not locked the row

            assert start_job(worker, partner_id, job_id).status is JobStatus.RUNNING
        canceller.join(timeout=30)
        with session_scope(sessions) as session:
            status = get_job(session, partner_id, job_id).status
    finally:
        with session_scope(sessions) as session:
            session.delete(get_partner(session, partner_id))  # its job cascades
    assert status is JobStatus.CANCELLING  # the start, then the cancel of a running job
