"""The embedded default as ``naa serve`` runs it: no server, broker and results in SQLite files under the
data dir, and a worker process started beside the API with the same settings."""

from pathlib import Path

from naa.config.settings import NAASettings
from naa.storage import documents, jobs
from naa.storage.models import DocumentStatus, JobStatus
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import make_celery
from pipelines.submit import submit_kb_index
from pipelines.worker import start_worker_process, stop_worker_processes, worker_environment


def test_worker_environment_carries_the_resolved_settings(tmp_path: Path) -> None:
    env = worker_environment(NAASettings(data_dir=tmp_path / "d"))
    assert env["NAA_DATA_DIR"] == str((tmp_path / "d").resolve())
    assert env["NAA_DATABASE_URL"] == f"sqlite:///{(tmp_path / 'd' / 'naa.db').resolve()}"
    assert env["NAA_BROKER_URL"] == f"sqla+sqlite:///{(tmp_path / 'd' / 'celery-broker.db').resolve()}"
    assert env["NAA_RESULT_BACKEND"] == f"db+sqlite:///{(tmp_path / 'd' / 'celery-results.db').resolve()}"


def test_worker_process_indexes_from_the_sqlite_broker(tmp_path: Path, articles: list[Path]) -> None:
    settings = NAASettings(data_dir=tmp_path / "data")
    app = make_celery(settings)
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = submit_kb_index(app, session, "acme", "help", articles[:2])
    process = start_worker_process(settings)
    try:
        assert app.AsyncResult(job.id).get(timeout=120)["documents"] == 2
    finally:
        assert stop_worker_processes([process]) == [0]  # warm shutdown, not a kill
    with session_scope(app.session_factory()) as session:
        done = jobs.get_job(session, "acme", job.id)
        catalogue = documents.list_documents(session, "acme", "help")
    assert (done.status, done.progress) == (JobStatus.SUCCEEDED, 1.0)
    assert [d.status for d in catalogue] == [DocumentStatus.INDEXED] * 2
    assert (tmp_path / "data" / "celery-broker.db").is_file()
