"""Knowledge-base documents: upload -> indexing job on a real Celery worker -> searchable; list; delete."""

import io

import httpx
import pytest
from api_support import Keys, finished_job
from fastapi.testclient import TestClient

ESIM = b"---\ntitle: eSIM setup\n---\n# eSIM setup\n\nScan the Acme eSIM QR code in your phone's settings.\n"
ESIM_QUERY = {"query": "how do I set up an eSIM QR code"}


def _upload(client: TestClient, keys: Keys, *files: tuple[str, bytes]) -> httpx.Response:
    parts = [("files", (name, io.BytesIO(content))) for name, content in files]
    return client.post("/v1/kb/documents", files=parts, headers=keys.headers("acme"))


@pytest.mark.usefixtures("worker")
def test_an_upload_is_indexed_by_a_job_then_found_and_deleted(client: TestClient, keys: Keys) -> None:
    acme = keys.headers("acme")
    upload = _upload(client, keys, ("esim.md", ESIM))
    assert upload.status_code == 202, upload.text
    pending = upload.json()["documents"][0]
    assert (pending["doc_id"], pending["status"]) == ("esim.md", "pending")
    job = finished_job(client, keys, upload.json()["job"]["id"])
    assert job["status"] == "succeeded", job
    assert (job["kind"], job["progress"], job["result"]["documents"]) == ("kb_index", 1.0, 1)

    listed = {d["doc_id"]: d for d in client.get("/v1/kb/documents", headers=acme).json()["documents"]}
    assert listed["esim.md"]["status"] == "indexed"
    assert listed["esim.md"]["chunk_count"] >= 1
    assert listed["roaming.md"]["status"] == "indexed"  # indexed by `naa build`, not uploaded
    found = client.post("/v1/search", json=ESIM_QUERY, headers=acme).json()
    assert found["passages"][0]["doc_id"] == "esim.md"

    assert client.delete("/v1/kb/documents/esim.md", headers=acme).status_code == 204
    found = client.post("/v1/search", json=ESIM_QUERY, headers=acme).json()
    assert "esim.md" not in [p["doc_id"] for p in found["passages"]]
    assert client.delete("/v1/kb/documents/esim.md", headers=acme).status_code == 404


@pytest.mark.usefixtures("worker")
def test_a_duplicate_document_id_is_a_409_and_nothing_else_is_stored(client: TestClient, keys: Keys) -> None:
    acme = keys.headers("acme")
    first = _upload(client, keys, ("apn.md", b"# APN\n\nUse apn.acme on Android."))
    assert first.status_code == 202
    jobs_before = [j["id"] for j in client.get("/v1/jobs", headers=acme).json()["jobs"]]
    again = _upload(client, keys, ("other.md", b"# Other\n\ntext"), ("apn.md", b"# APN 2\n\ntext"))
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert "apn.md" in again.json()["message"]
    assert [j["id"] for j in client.get("/v1/jobs", headers=acme).json()["jobs"]] == jobs_before
    listed = client.get("/v1/kb/documents", headers=acme).json()["documents"]
    assert "other.md" not in [d["doc_id"] for d in listed]
    finished_job(client, keys, first.json()["job"]["id"])


def test_unsupported_and_empty_files_are_refused_with_a_clear_message(client: TestClient, keys: Keys) -> None:
    image = _upload(client, keys, ("logo.png", b"\x89PNG"))
    assert (image.status_code, image.json()["code"]) == (415, "unsupported_media_type")
    assert ".png" in image.json()["message"]
    assert ".md" in image.json()["message"]
    empty = _upload(client, keys, ("empty.md", b""))
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_input")
    nothing = client.post("/v1/kb/documents", headers=keys.headers("acme"))
    assert (nothing.status_code, nothing.json()["code"]) == (422, "invalid_request")


def test_file_names_that_cannot_be_stored_are_refused(client: TestClient, keys: Keys) -> None:
    # Both were 500s: a name past the doc_id column (PostgreSQL) or the file system's 255 bytes, and NUL.
    long = _upload(client, keys, ("é" * 150 + ".md", b"# Returns\n\nWithin 30 days.\n"))
    assert (long.status_code, long.json()["code"]) == (422, "invalid_input")
    assert "303 bytes in UTF-8, the limit is 200" in long.json()["message"]
    # Written by hand: httpx would escape the NUL in the file name.
    part = b'Content-Disposition: form-data; name="files"; filename="a\x00b.md"\r\n\r\n# Hi\r\n'
    body = b"--XB\r\n" + part + b"--XB--\r\n"
    headers = {**keys.headers("acme"), "content-type": "multipart/form-data; boundary=XB"}
    nul = client.post("/v1/kb/documents", content=body, headers=headers)
    assert (nul.status_code, nul.json()["code"]) == (422, "invalid_input")
    assert "cannot hold NUL" in nul.json()["message"]
    listed = client.get("/v1/kb/documents", headers=keys.headers("acme")).json()["documents"]
    assert not [d for d in listed if d["doc_id"].startswith(("é", "a\x00"))]
