"""Uploads whose indexing job has not started yet: deleted or cancelled while queued.

No worker runs in this module until a test starts one, so each job is still queued when the test deletes
its document or cancels it; the worker then takes the job.
"""

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from api_support import Keys, finished_job
from celery.contrib.testing.worker import start_worker
from fastapi import FastAPI
from fastapi.testclient import TestClient

KAYAK = b"# Kayak rental\n\nAcme rents sea kayaks by the hour from the harbour shop.\n"
CANOE = b"# Canoe rental\n\nAcme rents open canoes for whole-day river trips.\n"


def _upload(client: TestClient, keys: Keys, name: str, content: bytes) -> httpx.Response:
    files = [("files", (name, io.BytesIO(content)))]
    return client.post("/v1/kb/documents", files=files, headers=keys.headers("acme"))


@contextmanager
def _worker(app: FastAPI) -> Iterator[None]:
    with start_worker(
        app.state.naa.jobs_app, pool="solo", queues=["cpu"], perform_ping_check=False, shutdown_timeout=60
    ):
        yield


def _listed(client: TestClient, keys: Keys) -> dict[str, dict[str, object]]:
    documents = client.get("/v1/kb/documents", headers=keys.headers("acme")).json()["documents"]
    return {d["doc_id"]: d for d in documents}


def _settled(client: TestClient, keys: Keys, doc_id: str, timeout_s: float = 90) -> dict[str, object]:
    """The document once it is no longer pending: the worker marks it when it takes the job's message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        document = _listed(client, keys)[doc_id]
        if document["status"] != "pending":
            return document
        time.sleep(0.2)
    raise AssertionError(f"{doc_id} still pending after {timeout_s} s")


def test_a_document_deleted_while_its_job_is_queued_is_not_indexed(
    app: FastAPI, client: TestClient, keys: Keys
) -> None:
    # The queued job indexed it anyway: it came back indexed and was the top search hit.
    acme = keys.headers("acme")
    upload = _upload(client, keys, "kayak.md", KAYAK)
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["job"]["id"]
    assert client.delete("/v1/kb/documents/kayak.md", headers=acme).status_code == 204
    assert client.get(f"/v1/jobs/{job_id}", headers=acme).json()["status"] == "queued"
    with _worker(app):
        assert finished_job(client, keys, job_id)["status"] == "succeeded"
    assert "kayak.md" not in _listed(client, keys)
    found = client.post("/v1/search", json={"query": "rent a sea kayak"}, headers=acme).json()["passages"]
    assert "kayak.md" not in [p["doc_id"] for p in found]
    assert client.delete("/v1/kb/documents/kayak.md", headers=acme).status_code == 404


def test_a_cancelled_upload_is_marked_failed_and_can_be_uploaded_again(
    app: FastAPI, client: TestClient, keys: Keys
) -> None:
    # The document stayed pending forever, and uploading it again was a 409.
    acme = keys.headers("acme")
    upload = _upload(client, keys, "canoe.md", CANOE)
    job_id = upload.json()["job"]["id"]
    cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=acme)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    with _worker(app):
        canoe = _settled(client, keys, "canoe.md")
        assert canoe["status"] == "failed"
        assert "cancelled" in str(canoe["error"])
        again = _upload(client, keys, "canoe.md", CANOE)
        assert again.status_code == 202, again.text
        assert finished_job(client, keys, again.json()["job"]["id"])["status"] == "succeeded"
    assert _listed(client, keys)["canoe.md"]["status"] == "indexed"
    assert client.delete("/v1/kb/documents/canoe.md", headers=acme).status_code == 204
