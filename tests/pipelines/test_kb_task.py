"""KB indexing through a real worker: the job row tells the story, the index and the catalogue agree."""

from collections.abc import Callable
from pathlib import Path

from naa.retrieval import KnowledgeBase
from naa.storage import documents, jobs
from naa.storage.models import DocumentStatus, JobStatus
from naa.storage.partners import get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery
from pipelines.submit import submit_kb_index

Wait = Callable[[NAACelery, str, str], tuple[list[JobStatus], float]]


def index(app: NAACelery, paths: list[Path], doc_ids: list[str] | None = None) -> str:
    """Register the documents as pending (when named) and queue the job, as the API does."""
    with session_scope(app.session_factory()) as session:
        if doc_ids is not None:
            metas = [documents.DocumentMeta(d) for d in doc_ids]
            documents.add_documents(session, "acme", "help", metas, replace=True)
        job = submit_kb_index(app, session, "acme", "help", paths, doc_ids)
        assert job.status is JobStatus.QUEUED
    return job.id


def knowledge_base(app: NAACelery) -> KnowledgeBase:
    with session_scope(app.session_factory()) as session:
        config = partner_config(get_partner(session, "acme"))
    return KnowledgeBase(app.workspace.kb_dir("acme", "help"), config.retrieval)


def test_index_job_runs_to_success_and_is_searchable(
    redis_app: NAACelery, articles: list[Path], wait_for_job: Wait
) -> None:
    job_id = index(redis_app, articles, ["refunds", "shipping", "passwords"])
    seen, progress = wait_for_job(redis_app, "acme", job_id)
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
    redis_app: NAACelery, articles: list[Path], wait_for_job: Wait
) -> None:
    first = index(redis_app, articles)
    assert wait_for_job(redis_app, "acme", first)[0][-1] is JobStatus.SUCCEEDED
    before = knowledge_base(redis_app).documents()
    second = index(redis_app, articles)
    assert wait_for_job(redis_app, "acme", second)[0][-1] is JobStatus.SUCCEEDED
    with session_scope(redis_app.session_factory()) as session:
        result = jobs.get_job(session, "acme", second).result
    assert result is not None and sorted(result["replaced"]) == sorted(p.name for p in articles)
    assert knowledge_base(redis_app).documents() == before


def test_bad_input_fails_the_job_and_leaves_the_index_as_it_was(
    redis_app: NAACelery, articles: list[Path], tmp_path: Path, wait_for_job: Wait
) -> None:
    good = index(redis_app, articles[:1], ["good"])
    assert wait_for_job(redis_app, "acme", good)[0][-1] is JobStatus.SUCCEEDED
    before = knowledge_base(redis_app).documents()
    empty = tmp_path / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    job_id = index(redis_app, [articles[1], empty], ["shipping-2", "empty"])
    assert wait_for_job(redis_app, "acme", job_id)[0][-1] is JobStatus.FAILED
    with session_scope(redis_app.session_factory()) as session:
        job = jobs.get_job(session, "acme", job_id)
        failed = documents.get_document(session, "acme", "help", "empty")
    assert job.error is not None and job.error.startswith("empty is empty")  # the id sent, not a server path
    assert job.message and job.finished_at is not None
    assert failed.status is DocumentStatus.FAILED and failed.error == job.error
    assert knowledge_base(redis_app).documents() == before


def test_job_cancelled_before_it_starts_is_skipped(
    redis_app: NAACelery, articles: list[Path], wait_for_job: Wait
) -> None:
    with session_scope(redis_app.session_factory()) as session:
        job = submit_kb_index(redis_app, session, "acme", "help", articles)
        jobs.cancel_job(session, "acme", job.id)
    assert redis_app.AsyncResult(job.id).get(timeout=120) == {"skipped": "cancelled"}
    assert wait_for_job(redis_app, "acme", job.id)[0] == [JobStatus.CANCELLED]
