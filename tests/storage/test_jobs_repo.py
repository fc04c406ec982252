"""Job status and progress: the lifecycle a task records and the API shows."""

import pytest
from sqlalchemy.orm import Session

from naa.errors import ConflictError, NotFoundError
from naa.storage.jobs import (
    cancel_job,
    create_job,
    fail_job,
    get_job,
    list_jobs,
    start_job,
    succeed_job,
    update_progress,
)
from naa.storage.models import JobKind, JobStatus


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


def test_cancelled_job_is_seen_by_the_task_and_not_restarted(
    session: Session, two_partners: tuple[str, str]
) -> None:
    job = create_job(session, "acme", JobKind.INTENT_TRAIN)
    start_job(session, "acme", job.id)
    cancel_job(session, "acme", job.id)
    assert update_progress(session, "acme", job.id, 0.5) is JobStatus.CANCELLED
    assert start_job(session, "acme", job.id).status is JobStatus.CANCELLED
    assert fail_job(session, "acme", job.id, "interrupted").status is JobStatus.CANCELLED
    with pytest.raises(ConflictError, match="cancelled"):
        cancel_job(session, "acme", job.id)


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
