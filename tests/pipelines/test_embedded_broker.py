"""The embedded default: no server at all, broker and results in SQLite files under the data dir."""

from pathlib import Path

from celery.contrib.testing.worker import start_worker

from naa.config.settings import NAASettings
from naa.storage import documents, jobs
from naa.storage.models import DocumentStatus, JobStatus
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import make_celery
from pipelines.submit import submit_kb_index


def test_index_job_runs_on_the_sqlite_broker(tmp_path: Path, articles: list[Path]) -> None:
    data_dir = tmp_path / "data"
    app = make_celery(NAASettings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'naa.db'}"))
    assert app.conf.broker_url.startswith("sqla+sqlite:///")
    assert str(app.conf.result_backend).startswith("db+sqlite:///")
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = submit_kb_index(app, session, "acme", "help", articles[:2])
    with start_worker(app, pool="solo", queues=["cpu"], perform_ping_check=False, shutdown_timeout=60):
        result = app.AsyncResult(job.id).get(timeout=120)
    assert result["documents"] == 2
    with session_scope(app.session_factory()) as session:
        done = jobs.get_job(session, "acme", job.id)
        catalogue = documents.list_documents(session, "acme", "help")
    assert (done.status, done.progress) == (JobStatus.SUCCEEDED, 1.0)
    assert [d.status for d in catalogue] == [DocumentStatus.INDEXED] * 2
    assert (data_dir / "celery-broker.db").is_file()
