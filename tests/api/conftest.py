"""API tests run the real app over a real database (SQLite and PostgreSQL) with real models.

The generator is the session's tiny random-weight Llama (``tiny_lm_dir``), loaded by path through the code
users run; intents and retrieval use the packaged MiniLM and a real FAISS index.
"""

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import redis
import uvicorn
from api_support import Keys, SSEvent, parse_sse, write_partner
from celery.contrib.testing.worker import start_worker
from databases import fresh_postgres_database
from fastapi import FastAPI
from fastapi.testclient import TestClient
from served import free_port

from api.main import create_app
from naa.builder import build_partner
from naa.config.partner import load_partner_config
from naa.config.settings import NAASettings
from naa.storage import partners
from naa.storage.session import session_scope
from naa.workspace import Workspace

# Built once per test session; the app runs once per database (SQLite, then PostgreSQL).

ADMIN_KEY = "test-admin-key-of-24-chars"
REDIS_URL = os.environ.get("NAA_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture(scope="session")
def partner_files(tmp_path_factory: pytest.TempPathFactory, tiny_lm_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("partners")
    return {
        "acme": write_partner(root, "acme", "Acme Mobile", tiny_lm_dir),
        "globex": write_partner(root, "globex", "Globex Bank", tiny_lm_dir),
    }


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory, partner_files: dict[str, Path]) -> Path:
    """Both partners built (intent model, FAISS index, generator) the way `naa build` builds them."""
    data_dir = tmp_path_factory.mktemp("naa-data")
    for path in partner_files.values():
        build_partner(load_partner_config(path), Workspace(data_dir))
    return data_dir


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped at the end; skipped when no server answers."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'naa.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def broker_url() -> str | None:
    """The Redis server when it answers (production's broker), else the embedded SQLite transport (None)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        return None
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path, broker_url: str | None) -> NAASettings:
    return NAASettings(
        data_dir=data_dir,
        database_url=database_url,
        admin_key=ADMIN_KEY,
        broker_url=broker_url,
        result_backend=broker_url,
        max_message_chars=500,
        # Above the tests' tiny runs and evaluations (tens of tokens), low enough for a test to exceed.
        rl_max_run_tokens=2000,
    )


@pytest.fixture(scope="session")
def app(settings: NAASettings) -> FastAPI:
    app = create_app(settings, max_body_bytes=256 * 1024)
    if settings.broker_url is not None:
        # A key prefix of this run's own: another test run's worker on this Redis never takes these tasks.
        jobs_app = app.state.naa.jobs_app
        prefix = {"global_keyprefix": f"naa-api-test-{uuid.uuid4().hex[:8]}:"}
        jobs_app.conf.broker_transport_options = {**jobs_app.conf.broker_transport_options, **prefix}
    return app


@pytest.fixture(scope="module")
def worker(app: FastAPI) -> Iterator[None]:
    """A real Celery worker in a thread of this process, taking the app's jobs from the broker: indexing and
    intent training (``cpu``) and RL training (``gpu``, on CPU with the tiny model).

    One per test module, stopped at its end: a worker thread left running beside the next module's own
    (tests/pipelines starts one) kept that one from taking its jobs.
    """
    with start_worker(
        app.state.naa.jobs_app,
        pool="solo",
        queues=["cpu", "gpu"],
        perform_ping_check=False,
        shutdown_timeout=60,
    ):
        yield


@pytest.fixture(scope="session")
def keys(app: FastAPI, partner_files: dict[str, Path]) -> Keys:
    """Both partners stored with their YAML text, as the admin route stores them, and one key each."""
    state = app.state.naa
    plain = {}
    with session_scope(state.sessions) as session:
        for partner_id, path in partner_files.items():
            config = load_partner_config(path)
            partners.create_partner(session, partner_id, config.name, config_yaml=path.read_text())
            plain[partner_id] = partners.create_api_key(session, partner_id, "tests")[1]
    return Keys(**plain)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def served_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free localhost port, for clients that speak real HTTP."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def read_sse() -> Callable[[Iterable[str]], list[SSEvent]]:
    return parse_sse
