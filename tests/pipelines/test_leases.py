"""A worker killed mid-job (kill -9, OOM, ``docker stop`` past its grace period): its job is delivered again
within minutes, and a live worker's long job is never delivered twice (pipelines.leases)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from naa.config.settings import NAASettings
from pipelines.celery_app import VISIBILITY_TIMEOUT_S, NAACelery, make_celery

# A worker process as Dockerfile.worker-cpu runs it, with a lease of 2 s instead of minutes, and one task
# that hangs the first time it runs (the job the worker is killed in) and finishes the next.
WORKER_SCRIPT = """
import os, time
import pipelines.celery_app as celery_app
celery_app.VISIBILITY_TIMEOUT_S = 2
celery_app.RESTORE_INTERVAL_S = 0.5
app = celery_app._default_app()
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "global_keyprefix": os.environ["TEST_KEYPREFIX"]
}
marks = os.environ["TEST_MARKS"]

@app.task(name="naa.test.hold")
def hold():
    first = not os.path.exists(f"{marks}/started")
    with open(f"{marks}/started", "a") as started:
        started.write(f"{os.getpid()}\\n")
    if first:
        time.sleep(600)
    with open(f"{marks}/done", "w") as done:
        done.write(str(os.getpid()))

name = f"lease-{os.getpid()}@%h"
app.worker_main(["worker", "--pool", "solo", "-Q", "cpu", "--loglevel", "WARNING", "-n", name])
"""


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    prefix = f"naa-lease-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def make_settings(data_dir: Path, broker_url: str) -> NAASettings:
    return NAASettings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'naa.db'}",
        broker_url=broker_url,
        result_backend=broker_url,
    )


def _app(data_dir: Path, redis_url: str, prefix: str, **transport: float) -> NAACelery:
    app = make_celery(make_settings(data_dir, redis_url))
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "global_keyprefix": prefix,
        **transport,
    }
    return app


def test_leases_are_minutes_not_days(tmp_path: Path) -> None:
    """The 48 h timeout left a killed worker's job running for two days."""
    app = make_celery(make_settings(tmp_path, "redis://127.0.0.1:6379/11"))
    assert app.conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_S <= 10 * 60


def test_a_running_task_keeps_renewing_its_lease(tmp_path: Path, redis_url: str, prefix: str) -> None:
    app = _app(tmp_path, redis_url, prefix, visibility_timeout=1)

    @app.task(name="naa.test.slow")
    def slow() -> str:
        time.sleep(2.5)
        return "done"

    client = redis.Redis.from_url(redis_url)
    with start_worker(app, pool="solo", queues=["cpu"], perform_ping_check=False, shutdown_timeout=30):
        result = app.send_task("naa.test.slow")
        time.sleep(2)  # twice the lease: without renewal its score would be 2 s old, due for redelivery
        leases = client.zrange(f"{prefix}unacked_index", 0, -1, withscores=True)
        assert len(leases) == 1
        assert time.time() - leases[0][1] < 1
        assert result.get(timeout=30) == "done"
    assert client.zcard(f"{prefix}unacked_index") == 0
    client.close()


def _worker(tmp_path: Path, redis_url: str, prefix: str, marks: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NAA_DATA_DIR": str(tmp_path / "data"),
        "NAA_DATABASE_URL": f"sqlite:///{tmp_path / 'naa.db'}",
        "NAA_BROKER_URL": redis_url,
        "NAA_RESULT_BACKEND": redis_url,
        "TEST_KEYPREFIX": prefix,
        "TEST_MARKS": str(marks),
    }
    return subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], env=env)


def _wait_for(path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear in {timeout_s} s"
        time.sleep(0.1)


def test_the_job_of_a_killed_worker_is_delivered_again(tmp_path: Path, redis_url: str, prefix: str) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    app = _app(tmp_path, redis_url, prefix)
    first = _worker(tmp_path, redis_url, prefix, marks)
    second = None
    try:
        app.send_task("naa.test.hold")
        _wait_for(marks / "started", 60)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = _worker(tmp_path, redis_url, prefix, marks)
        _wait_for(marks / "done", 60)  # the lease (2 s) ran out and the second worker took the job
        assert (marks / "done").read_text() == str(second.pid)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(30)
