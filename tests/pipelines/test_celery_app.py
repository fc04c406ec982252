"""The app's routing and delivery guarantees, and job progress as a task records it."""

from pathlib import Path

import pytest
from celery.app.utils import find_app
from sqlalchemy.exc import IntegrityError

from naa.config.settings import NAASettings
from naa.errors import InputError
from naa.storage import jobs
from naa.storage.models import Job, JobKind, JobStatus
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import CPU_QUEUE, GPU_QUEUE, NAACelery, _default_app, make_celery
from pipelines.leases import LeaseRenewal
from pipelines.tracking import JobCancelled, JobProgress, public_error


@pytest.fixture
def app(tmp_path: Path) -> NAACelery:
    return make_celery(
        NAASettings(
            data_dir=tmp_path,
            broker_url="redis://127.0.0.1:6379/11",
            result_backend="redis://127.0.0.1:6379/11",
        )
    )


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("naa.kb.index", CPU_QUEUE),
        ("naa.intent.train", CPU_QUEUE),
        ("naa.rl.train", GPU_QUEUE),
        ("other", CPU_QUEUE),
    ],
)
def test_tasks_are_routed_by_area(app: NAACelery, task: str, queue: str) -> None:
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_lost_worker_loses_no_job(app: NAACelery) -> None:
    conf = app.conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (
        True,
        True,
        1,
    )
    assert LeaseRenewal in app.steps["consumer"]  # a killed worker's job comes back (test_leases.py)
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])


def test_embedded_default_keeps_broker_and_results_in_the_data_dir(tmp_path: Path) -> None:
    app = make_celery(NAASettings(data_dir=tmp_path / "fresh"))
    assert app.conf.broker_url == f"sqla+sqlite:///{(tmp_path / 'fresh' / 'celery-broker.db').resolve()}"
    assert app.conf.result_backend == f"db+sqlite:///{(tmp_path / 'fresh' / 'celery-results.db').resolve()}"
    assert (tmp_path / "fresh").is_dir()
    assert "visibility_timeout" not in (app.conf.broker_transport_options or {})


def test_every_task_module_is_loaded_by_the_worker(app: NAACelery) -> None:
    assert {"pipelines.tasks.kb", "pipelines.tasks.intent"} <= set(app.conf.include)


def _running_job(app: NAACelery, kind: JobKind) -> Job:
    """A started job of partner acme, committed, as a worker sees it."""
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = jobs.create_job(session, "acme", kind)
        jobs.start_job(session, "acme", job.id)
    return job


def test_progress_stops_the_work_once_the_job_is_cancelled(app: NAACelery) -> None:
    job = _running_job(app, JobKind.KB_INDEX)
    progress = JobProgress(app, "acme", job.id)
    stage = progress.stage(0.5, 1.0, "indexing")
    stage(0.5, "batch 1")
    with session_scope(app.session_factory()) as session:
        assert jobs.get_job(session, "acme", job.id).progress == 0.75
        jobs.cancel_job(session, "acme", job.id)
    with pytest.raises(JobCancelled):
        JobProgress(app, "acme", job.id)(0.8, "batch 2")
    # A stage at 1.0 has written its output: the task must go on and record it, so no raise.
    JobProgress(app, "acme", job.id).stage(0.5, 1.0, "indexing")(1.0, "written")
    with session_scope(app.session_factory()) as session:
        assert jobs.get_job(session, "acme", job.id).status is JobStatus.CANCELLING  # run_job confirms it


def test_a_cancel_is_read_at_once_even_between_throttled_progress_writes(app: NAACelery) -> None:
    job = _running_job(app, JobKind.RL_TRAIN)
    progress = JobProgress(app, "acme", job.id)
    progress(0.1, "step 1", cancellable=False)  # written: reports in the next half second are not
    assert not progress.cancelled()
    with session_scope(app.session_factory()) as session:
        jobs.cancel_job(session, "acme", job.id)
    assert progress.cancelled()


def test_worker_command_finds_an_app_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("NAA_BROKER_URL", "redis://127.0.0.1:6379/11")
    _default_app.cache_clear()
    try:
        found = find_app("pipelines.celery_app")  # what `celery -A pipelines.celery_app worker` resolves
        assert isinstance(found, NAACelery)
        assert found.conf.broker_url == "redis://127.0.0.1:6379/11"
        assert found.naa_settings.data_dir == tmp_path / "env-data"
    finally:
        _default_app.cache_clear()


def test_a_job_for_one_queue_reaches_that_queue_only(tmp_path: Path) -> None:
    app = make_celery(NAASettings(data_dir=tmp_path))
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue(conn.default_channel).declare()
        app.send_task("naa.rl.train", args=["job-1", "acme", {}], connection=conn)
        counts = {
            name: conn.default_channel.queue_declare(queue=name, passive=True).message_count
            for name in (CPU_QUEUE, GPU_QUEUE)
        }
    assert counts == {CPU_QUEUE: 0, GPU_QUEUE: 1}
    assert {name: queue.exchange.name for name, queue in app.amqp.queues.items()} == {
        CPU_QUEUE: CPU_QUEUE,
        GPU_QUEUE: GPU_QUEUE,
    }


def test_a_job_tells_its_owner_naas_own_errors_and_only_the_type_of_any_other() -> None:
    assert public_error(InputError("faq.csv has no question column")) == "faq.csv has no question column"
    leaky = IntegrityError(
        "INSERT INTO documents (title) VALUES (%(title)s)", {"title": "x"}, Exception("dup")
    )
    told = public_error(leaky)
    assert told == "the job failed on an unexpected IntegrityError; the details are in the worker's log"
