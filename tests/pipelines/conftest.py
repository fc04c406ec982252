"""A real Celery worker, in a thread of the test process, on the Redis server at 127.0.0.1:6379.

Tests use Redis database 11 (or NAA_TEST_REDIS_URL) with a key prefix unique to the test session, so
concurrent test runs on one Redis never take each other's tasks. Jobs are recorded in a SQLite file.
"""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from naa.config.settings import NAASettings
from naa.storage import jobs
from naa.storage.models import JobStatus
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery, make_celery

REDIS_URL = os.environ.get("NAA_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")

ARTICLES = {
    "refunds.md": "# Refunds\n\nRefunds are paid back to the original card within 5 business days.\n",
    "shipping.md": "# Shipping\n\nStandard delivery takes 3 to 4 days; express delivery arrives next day.\n",
    "passwords.md": "# Resetting your password\n\nChoose 'Forgot password' on the sign-in page.\n",
}


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as err:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {err}")
    finally:
        client.close()
    return REDIS_URL


def make_settings(data_dir: Path, broker_url: str | None = None) -> NAASettings:
    return NAASettings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'naa.db'}",
        broker_url=broker_url,
        result_backend=broker_url,
    )


@pytest.fixture(scope="module")
def redis_app(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NAACelery]:
    """An app on Redis with a running worker on the ``cpu`` queue, and partner ``acme`` in its database."""
    app = make_celery(make_settings(tmp_path_factory.mktemp("naa"), redis_url))
    prefix = f"naa-test-{uuid.uuid4().hex[:8]}:"
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": prefix}
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
    app.conf.result_expires = 600
    with start_worker(app, pool="solo", queues=["cpu"], perform_ping_check=False, shutdown_timeout=60):
        yield app
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def articles(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in ARTICLES.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


JOB_TIMEOUT_S = 120


@pytest.fixture
def wait_for_job() -> Callable[[NAACelery, str, str], tuple[list[JobStatus], float]]:
    """Poll a job row until it finishes; gives the statuses seen, in order, and the final progress."""

    def wait(app: NAACelery, partner_id: str, job_id: str) -> tuple[list[JobStatus], float]:
        seen: list[JobStatus] = []
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            with session_scope(app.session_factory()) as session:
                job = jobs.get_job(session, partner_id, job_id)
            if not seen or seen[-1] is not job.status:
                seen.append(job.status)
            if job.status.finished:
                return seen, job.progress
            time.sleep(0.01)
        raise AssertionError(f"job {job_id} still {seen[-1]} after {JOB_TIMEOUT_S} s")

    return wait
