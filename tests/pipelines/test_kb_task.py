"""KB indexing through a real worker: the job row tells the story, the index and the catalogue agree."""

import time
from pathlib import Path

from naa.retrieval import KnowledgeBase
from naa.storage import documents, jobs
from naa.storage.models import DocumentStatus, JobStatus
from naa.storage.partners import get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery
from pipelines.submit import cancel, submit_kb_index

TIMEOUT_S = 120


def wait_for_job(app: NAACelery, job_id: str) -> tuple[list[JobStatus], float]:
    """Poll the job row until it finishes; returns the statuses seen in order and the final progress."""
    seen: list[JobStatus] = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        with session_scope(app.session_factory()) as session:
            job = jobs.get_job(session, "acme", job_id)
        if not seen or seen[-1] is not job.status:
            seen.append(job.status)
        if job.status.finished:
            return seen, job.progress
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} still {seen[-1]} after {TIMEOUT_S} s")


def index(app: NAACelery, paths: list[Path], doc_ids: list[str] | None = None) -> str:
    with session_scope(app.session_factory()) as session:
        if doc_ids is not None:
            documents.add_documents(
                session, "acme", "help", [documents.DocumentMeta(d) for d in doc_ids], replace=True
            )
        job = submit_kb_index(app, session, "acme", "help", paths, doc_ids)
        assert job.status is JobStatus.QUEUED
    return job.id


def knowledge_base(app: NAACelery) -> KnowledgeBase:
    with session_scope(app.session_factory()) as session:
        config = partner_config(get_partner(session, "acme"))
    return KnowledgeBase(app.workspace.kb_dir("acme", "help"), config.retrieval)


def test_index_job_runs_to_success_and_is_searchable(redis_app: NAACelery, articles: list[Path]) -> None:
    job_id = index(redis_app, articles, ["refunds", "shipping", "passwords"])
    seen, progress = wait_for_job(redis_app, job_id)
    assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert progress == 1.0
    with session_scope(redis_app.session_factory()) as session:
        job = jobs.get_job(session, "acme", job_id)
        catalogue = documents.list_documents(session, "acme", "help")
    assert job.result is not None and job.result["documents"] == 3
    assert job.celery_task_id == job_id
    assert {d.doc_id: d.status for d in catalogue} == dict.fromkeys(
        ["passwords", "refunds", "shipping"], DocumentStatus.INDEXED
    )
    assert all(d.chunk_count >= 1 for d in catalogue)
    best = knowledge_base(redis_app).search(["how long until my refund arrives?"])[0][0]
    assert best.doc_id == "refunds"


def test_rerunning_an_index_job_replaces_the_same_documents(
    redis_app: NAACelery, articles: list[Path]
) -> None:
    first = index(redis_app, articles)
    assert wait_for_job(redis_app, first)[0][-1] is JobStatus.SUCCEEDED
    before = knowledge_base(redis_app).documents()
    second = index(redis_app, articles)
    assert wait_for_job(redis_app, second)[0][-1] is JobStatus.SUCCEEDED
    with session_scope(redis_app.session_factory()) as session:
        result = jobs.get_job(session, "acme", second).result
    assert result is not None and sorted(result["replaced"]) == sorted(p.name for p in articles)
    assert knowledge_base(redis_app).documents() == before


def test_bad_input_fails_the_job_and_leaves_the_index_as_it_was(
    redis_app: NAACelery, articles: list[Path], tmp_path: Path
) -> None:
    assert wait_for_job(redis_app, index(redis_app, articles[:1], ["good"]))[0][-1] is JobStatus.SUCCEEDED
    before = knowledge_base(redis_app).documents()
    empty = tmp_path / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    job_id = index(redis_app, [articles[1], empty], ["shipping-2", "empty"])
    assert wait_for_job(redis_app, job_id)[0][-1] is JobStatus.FAILED
    with session_scope(redis_app.session_factory()) as session:
        job = jobs.get_job(session, "acme", job_id)
        failed = documents.get_document(session, "acme", "help", "empty")
    assert job.error is not None and "empty.md" in job.error
    assert job.message and job.finished_at is not None
    assert failed.status is DocumentStatus.FAILED and failed.error == job.error
    assert knowledge_base(redis_app).documents() == before


def test_job_cancelled_before_it_starts_is_skipped(redis_app: NAACelery, articles: list[Path]) -> None:
    with session_scope(redis_app.session_factory()) as session:
        job = submit_kb_index(redis_app, session, "acme", "help", articles)
        cancel(redis_app, session, "acme", job.id)
    result = redis_app.AsyncResult(job.id)
    if result.get(timeout=TIMEOUT_S, propagate=False) is not None:
        assert result.result == {"skipped": "cancelled"}
    else:
        assert result.state == "REVOKED"
    seen, _ = wait_for_job(redis_app, job.id)
    assert seen == [JobStatus.CANCELLED]
