"""A job's Celery message is sent exactly when the transaction that created its row commits."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from naa.config.settings import NAASettings
from naa.errors import NotFoundError
from naa.storage import jobs
from naa.storage.models import JobKind
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import CPU_QUEUE, NAACelery, make_celery
from pipelines.submit import submit, submit_kb_index


class Boom(Exception):
    pass


@pytest.fixture
def idle_app(redis_url: str, tmp_path: Path) -> Iterator[tuple[NAACelery, redis.Redis, str]]:
    """An app with no worker, so sent messages stay in the Redis list of the ``cpu`` queue."""
    app = make_celery(
        NAASettings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'naa.db'}",
            broker_url=redis_url,
            result_backend=redis_url,
        )
    )
    prefix = f"naa-test-{uuid.uuid4().hex[:8]}:"
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": prefix}
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
    client = redis.Redis.from_url(redis_url)
    yield app, client, prefix + CPU_QUEUE
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_rolled_back_submit_sends_nothing(
    idle_app: tuple[NAACelery, redis.Redis, str], tmp_path: Path
) -> None:
    app, client, queue = idle_app
    with pytest.raises(Boom), session_scope(app.session_factory()) as session:
        job = submit_kb_index(app, session, "acme", "help", [tmp_path / "a.md"])
        raise Boom
    assert client.llen(queue) == 0
    with session_scope(app.session_factory()) as session, pytest.raises(NotFoundError):
        jobs.get_job(session, "acme", job.id)


def test_committed_submit_sends_one_message_named_after_the_job(
    idle_app: tuple[NAACelery, redis.Redis, str],
) -> None:
    app, client, queue = idle_app
    with session_scope(app.session_factory()) as session:
        job = submit(app, session, "acme", JobKind.EVAL, "naa.eval.run", {"suite": "smoke"})
        assert client.llen(queue) == 0  # not before the commit
    assert client.llen(queue) == 1
    assert job.celery_task_id == job.id and job.params == {"suite": "smoke"}


def test_submit_for_unknown_partner_is_refused(idle_app: tuple[NAACelery, redis.Redis, str]) -> None:
    app, client, queue = idle_app
    with pytest.raises(NotFoundError), session_scope(app.session_factory()) as session:
        submit(app, session, "nobody", JobKind.EVAL, "naa.eval.run", {})
    assert client.llen(queue) == 0
