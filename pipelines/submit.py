"""Starting and cancelling jobs from the API or the CLI.

A job row and its Celery message must agree: the message is sent only when the transaction that created
the row commits (a worker never looks for a row that is not there yet, and a rolled-back request sends
nothing). The Celery task id is the job id, so a job can be revoked knowing only its id.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from naa.storage import jobs
from naa.storage.models import Job, JobKind
from naa.storage.partners import get_partner
from pipelines.celery_app import NAACelery

_PENDING = "naa_after_commit"

KB_INDEX_TASK = "naa.kb.index"
INTENT_TRAIN_TASK = "naa.intent.train"


def submit_kb_index(
    app: NAACelery,
    session: Session,
    partner_id: str,
    kb_name: str,
    paths: Sequence[Path],
    doc_ids: Sequence[str] | None = None,
) -> Job:
    """Queue indexing of files into a knowledge base; ``doc_ids``, if given, name each path's document.

    Register the documents first (``naa.storage.documents.add_documents``) in the same transaction when the
    API should list them as pending before the worker gets to them.
    """
    params = {
        "kb_name": kb_name,
        "paths": [str(p) for p in paths],
        "doc_ids": list(doc_ids) if doc_ids is not None else None,
    }
    return submit(app, session, partner_id, JobKind.KB_INDEX, KB_INDEX_TASK, params)


def submit_intent_train(
    app: NAACelery, session: Session, partner_id: str, examples: Path | None = None
) -> Job:
    """Queue training of a partner's intent model from ``examples`` or the examples file in its config."""
    params = {"examples": str(examples) if examples is not None else None}
    return submit(app, session, partner_id, JobKind.INTENT_TRAIN, INTENT_TRAIN_TASK, params)


def submit(
    app: NAACelery, session: Session, partner_id: str, kind: JobKind, task_name: str, params: dict[str, Any]
) -> Job:
    """Create a queued job and send ``task_name(job_id, partner_id, **params)`` once the session commits.

    The generic form, for task areas added later (RL training on the ``gpu`` queue, evaluation).
    """
    get_partner(session, partner_id)
    job = jobs.create_job(session, partner_id, kind, params)
    job.celery_task_id = job.id
    kwargs = {"job_id": job.id, "partner_id": partner_id, **params}
    _after_commit(session, lambda: app.send_task(task_name, kwargs=kwargs, task_id=job.id))
    session.flush()
    return job


def cancel(app: NAACelery, session: Session, partner_id: str, job_id: str) -> Job:
    """Mark a job cancelled; its task stops at the next progress report, or skips the job if not started.

    Where the broker supports broadcast (Redis), the queued message is also revoked so no worker takes it.
    """
    job = jobs.cancel_job(session, partner_id, job_id)
    task_id = job.celery_task_id
    if task_id is not None and _can_broadcast(app):
        _after_commit(session, lambda: app.control.revoke(task_id))
    return job


def _can_broadcast(app: NAACelery) -> bool:
    with app.connection_for_write() as connection:
        return "fanout" in connection.transport.implements.exchange_type


def _after_commit(session: Session, action: Callable[[], None]) -> None:
    session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
