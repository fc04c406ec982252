"""The database or the broker away while a replica runs: a prompt 503 that says which, and no job left queued
for good (found by running the compose deployment's processes with a replica pointed at a dead port)."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.main import create_app
from naa.config.partner import load_partner_config
from naa.config.settings import NAASettings
from naa.storage import partners
from naa.storage.session import PG_CONNECT_TIMEOUT_S, make_engine, make_session_factory, session_scope

# Nothing listens on port 1: a broker or database there refuses every connection at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/naa"
ADMIN_KEY = "outage-test-admin-key-of-24-chars"


@pytest.fixture
def outage_app(tmp_path: Path, partner_files: dict[str, Path]) -> FastAPI:
    """An app on a working SQLite database whose broker is down, with partner acme and its key."""
    settings = NAASettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'naa.db'}",
        broker_url=DEAD_REDIS,
        result_backend=DEAD_REDIS,
        admin_key=ADMIN_KEY,
    )
    app = create_app(settings)
    with session_scope(app.state.naa.sessions) as session:
        path = partner_files["acme"]
        config = load_partner_config(path)
        partners.create_partner(session, "acme", config.name, config_yaml=path.read_text())
        app.state.key = partners.create_api_key(session, "acme", "tests")[1]
    return app


@pytest.fixture
def outage_client(outage_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(outage_app) as client:
        yield client


def test_an_upload_while_the_broker_is_down_is_a_503_and_leaves_nothing_pending(
    outage_app: FastAPI, outage_client: TestClient
) -> None:
    """It was a 500 after the job row committed: the job stayed queued and the document pending for good,
    and the same file could not be uploaded again (409)."""
    headers = {"Authorization": f"Bearer {outage_app.state.key}"}
    files = {"files": ("roaming.md", b"# Roaming\n\nRoaming in the EU is free.\n", "text/markdown")}
    start = time.monotonic()
    reply = outage_client.post("/v1/kb/documents", files=files, headers=headers)
    assert time.monotonic() - start < 10  # Celery's result backend retried for 19 s before it gave up
    assert reply.status_code == 503
    assert reply.json()["code"] == "service_unavailable"
    assert "broker" in reply.json()["message"]
    [job] = outage_client.get("/v1/jobs", headers=headers).json()["jobs"]
    assert (job["kind"], job["status"]) == ("kb_index", "failed")
    [document] = outage_client.get("/v1/kb/documents", headers=headers).json()["documents"]
    assert (document["doc_id"], document["status"]) == ("roaming.md", "failed")
    uploads = outage_app.state.naa.workspace.uploads_dir("acme")
    assert not [path for path in uploads.rglob("*") if path.is_file()]  # no job will delete them now


def test_a_build_while_the_broker_is_down_fails_both_of_its_jobs(
    outage_app: FastAPI, outage_client: TestClient
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert outage_client.post("/v1/admin/partners/acme/build", headers=admin).status_code == 503
    headers = {"Authorization": f"Bearer {outage_app.state.key}"}
    statuses = {j["kind"]: j["status"] for j in outage_client.get("/v1/jobs", headers=headers).json()["jobs"]}
    assert statuses == {"intent_train": "failed", "kb_index": "failed"}


def test_healthz_and_routes_are_503_while_the_database_is_down(
    outage_app: FastAPI, outage_client: TestClient
) -> None:
    """They were a 500 'the server failed on this request', which reads like a bug, not an outage."""
    outage_app.state.naa.sessions = make_session_factory(make_engine(DEAD_POSTGRES))
    health = outage_client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["code"] == "service_unavailable"
    assert "database" in health.json()["message"]
    assert health.headers["Retry-After"]
    headers = {"Authorization": f"Bearer {outage_app.state.key}"}
    assert outage_client.get("/v1/kb/documents", headers=headers).status_code == 503


def test_a_request_that_finds_every_pooled_connection_busy_is_a_503(
    outage_app: FastAPI, outage_client: TestClient, tmp_path: Path
) -> None:
    """The pool's timeout (all connections held, e.g. by slow exports) was a 500."""
    engine = make_engine(f"sqlite:///{tmp_path / 'naa.db'}", pool_size=1, max_overflow=0, pool_timeout=0.2)
    outage_app.state.naa.sessions = make_session_factory(engine)
    with engine.connect():  # the pool's only connection, held
        busy = outage_client.get(
            "/v1/kb/documents", headers={"Authorization": f"Bearer {outage_app.state.key}"}
        )
    assert (busy.status_code, busy.json()["code"]) == (503, "service_unavailable")
    assert busy.headers["Retry-After"]
    engine.dispose()


def test_a_database_that_accepts_but_never_answers_fails_within_the_connect_timeout() -> None:
    """libpq's default is to wait forever: /healthz and every request hung while PostgreSQL did not answer."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (the kernel's backlog) and never says a word
        port = silent.getsockname()[1]
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/naa")
        start = time.monotonic()
        with pytest.raises(OperationalError):
            engine.connect()
        assert time.monotonic() - start < PG_CONNECT_TIMEOUT_S + 5
        engine.dispose()
