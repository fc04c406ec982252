"""The Celery app: two queues (``cpu`` for indexing, intent training and evaluation; ``gpu`` for RL training).

Embedded default: kombu's SQLAlchemy transport and Celery's database result backend, both SQLite files in
the data dir, so no server is needed. Production: Redis URLs in ``NAA_BROKER_URL`` / ``NAA_RESULT_BACKEND``.
Start a worker with ``celery -A pipelines.celery_app worker -Q cpu`` (or ``-Q gpu`` on a GPU host).

Task names are ``naa.<area>.<verb>``; the area picks the queue. Every module in ``pipelines/tasks/`` is
loaded by the worker, so adding a task area is adding a module.
"""

import functools
import pkgutil
from typing import Any

from celery import Celery, Task
from kombu import Exchange, Queue
from sqlalchemy.orm import Session, sessionmaker

from naa.config.settings import NAASettings
from naa.storage.session import init_db, make_engine, make_session_factory
from naa.workspace import Workspace
from pipelines import tasks
from pipelines.leases import LeaseRenewal

CPU_QUEUE = "cpu"
GPU_QUEUE = "gpu"
TASK_ROUTES = {
    "naa.kb.*": {"queue": CPU_QUEUE},
    "naa.intent.*": {"queue": CPU_QUEUE},
    "naa.eval.*": {"queue": CPU_QUEUE},
    "naa.rl.*": {"queue": GPU_QUEUE},
}
# Redis redelivers an unacknowledged message after this long. With acks_late a task is acknowledged only
# when it ends, so a live worker renews this lease of each message it holds (pipelines.leases): a job is
# delivered again only when its worker has died, and then within minutes, not after the longest training
# run (the 48 hours this was, which left a killed worker's job "running" for two days).
VISIBILITY_TIMEOUT_S = 5 * 60
# How long a result-backend call retries a lost Redis connection: about 2 s, not Celery's 19 s.
BACKEND_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# kombu looks for expired leases every interval x throttle seconds (its default, 10 x 10, is 100 s).
RESTORE_INTERVAL_S = 30


class NAACelery(Celery):
    """A Celery app that carries the process settings and opens the database lazily, once per process.

    >>> app = make_celery(NAASettings(broker_url="redis://localhost:6379/0", result_backend="redis://localhost:6379/1"))
    >>> app.conf.task_routes["naa.rl.*"]
    {'queue': 'gpu'}
    """

    def __init__(self, settings: NAASettings, **kwargs: Any) -> None:
        super().__init__("naa", **kwargs)
        self.naa_settings = settings
        self._session_factory: sessionmaker[Session] | None = None

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.naa_settings.data_dir)

    def session_factory(self) -> sessionmaker[Session]:
        """Sessions on the configured database, migrated to head on first use (a fresh embedded file works).

        Created lazily so that a prefork worker opens its connections after the fork, not before.
        """
        if self._session_factory is None:
            url = self.naa_settings.resolved_database_url()
            init_db(url)
            self._session_factory = make_session_factory(make_engine(url))
        return self._session_factory


def naa_app(task: Task) -> NAACelery:
    """The app a task runs on, typed; tasks need its settings and database."""
    if not isinstance(task.app, NAACelery):
        raise TypeError(f"task {task.name} must run on an app made by pipelines.celery_app.make_celery")
    return task.app


def broker_urls(settings: NAASettings) -> tuple[str, str]:
    """The broker and result backend URLs: the settings', or SQLite files in the data dir."""
    data_dir = settings.data_dir.resolve()
    broker = settings.broker_url or f"sqla+sqlite:///{data_dir / 'celery-broker.db'}"
    backend = settings.result_backend or f"db+sqlite:///{data_dir / 'celery-results.db'}"
    if settings.broker_url is None or settings.result_backend is None:
        data_dir.mkdir(parents=True, exist_ok=True)  # SQLite creates the file but not its folder
    return broker, backend


def make_celery(settings: NAASettings) -> NAACelery:
    broker, backend = broker_urls(settings)
    app = NAACelery(settings, broker=broker, backend=backend, include=_task_modules())
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # Each queue its own direct exchange: left out, Celery gives every queue the default queue's exchange,
        # which routes right but shows as `gpu exchange=cpu` in a worker's banner.
        task_queues=[Queue(name, Exchange(name), routing_key=name) for name in (CPU_QUEUE, GPU_QUEUE)],
        task_default_queue=CPU_QUEUE,
        task_routes=TASK_ROUTES,
        # A task is acknowledged when it ends, and a worker that dies hands it back: no job is lost.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Jobs run for minutes to hours: a worker takes one at a time so an idle worker can take the next.
        worker_prefetch_multiplier=1,
        task_track_started=True,
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
    )
    if broker.startswith(("redis", "rediss", "sentinel")):
        # Only Redis knows this option; kombu's SQLAlchemy transport hands its options to create_engine.
        app.conf.broker_transport_options = {
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
        }
        app.steps["consumer"].add(LeaseRenewal)
    if backend.startswith(("redis", "rediss", "sentinel")):
        # Sending a job subscribes to its result first; with Redis down that retried 20 times, a second
        # apart, so the client waited 19 s (38 s for a build's two jobs) for the 503 (pipelines.submit).
        app.conf.result_backend_transport_options = {"retry_policy": BACKEND_RETRY_POLICY}
    return app


def _task_modules() -> list[str]:
    return sorted(f"{tasks.__name__}.{module.name}" for module in pkgutil.iter_modules(tasks.__path__))


@functools.cache
def _default_app() -> NAACelery:
    return make_celery(NAASettings.from_env())


def __getattr__(name: str) -> NAACelery:
    """``app``, the worker command's app (``celery -A pipelines.celery_app``), built from ``NAA_`` variables.

    Built on first use rather than at import, so importing ``make_celery`` (as the API does) neither
    reads the environment nor creates the data dir.
    """
    if name == "app":
        return _default_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
