"""Knowledge-base documents: upload -> indexing job on a real Celery worker -> searchable; list; delete."""

import io
import time
import uuid

import httpx
import pytest
from api_support import Keys, finished_job, send_together
from fastapi.testclient import TestClient

from naa.config.settings import NAASettings
from naa.workspace import Workspace

ESIM = b"---\ntitle: eSIM setup\n---\n# eSIM setup\n\nScan the Acme eSIM QR code in your phone's settings.\n"
ESIM_QUERY = {"query": "how do I set up an eSIM QR code"}


def _upload(client: TestClient, keys: Keys, *files: tuple[str, bytes]) -> httpx.Response:
    parts = [("files", (name, io.BytesIO(content))) for name, content in files]
    return client.post("/v1/kb/documents", files=parts, headers=keys.headers("acme"))


@pytest.mark.usefixtures("worker")
def test_an_upload_is_indexed_by_a_job_then_found_and_deleted(
    client: TestClient, keys: Keys, settings: NAASettings
) -> None:
    acme = keys.headers("acme")
    upload = _upload(client, keys, ("esim.md", ESIM))
    assert upload.status_code == 202, upload.text
    pending = upload.json()["documents"][0]
    assert (pending["doc_id"], pending["status"]) == ("esim.md", "pending")
    job = finished_job(client, keys, upload.json()["job"]["id"])
    assert job["status"] == "succeeded", job
    assert (job["kind"], job["progress"], job["result"]["documents"]) == ("kb_index", 1.0, 1)
    # The index holds what was read; the uploaded file is not kept to outlive the document's deletion.
    assert not list(Workspace(settings.data_dir).uploads_dir("acme").glob("*/esim.md"))

    listed = {d["doc_id"]: d for d in client.get("/v1/kb/documents", headers=acme).json()["documents"]}
    assert listed["esim.md"]["status"] == "indexed"
    assert listed["esim.md"]["chunk_count"] >= 1
    assert listed["roaming.md"]["status"] == "indexed"  # indexed by `naa build`, not uploaded
    found = client.post("/v1/search", json=ESIM_QUERY, headers=acme).json()
    assert found["passages"][0]["doc_id"] == "esim.md"

    deleted = client.delete("/v1/kb/documents/esim.md", headers=acme)
    assert deleted.status_code == 204 and "content-type" not in deleted.headers  # no body
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


FAQ = (
    b"question,answer,id\n"
    b"How do I top up my prepaid SIM?,Top up a prepaid Acme SIM with a voucher code in the Acme app.,\n"
    b"Can I keep my number when I switch?,Acme ports your old number within one working day.,porting\n"
)


@pytest.mark.usefixtures("worker")
def test_a_faq_upload_is_one_document_that_is_indexed_and_deleted_with_all_its_entries(
    client: TestClient, keys: Keys
) -> None:
    # It stayed pending with 0 chunks while its entries were listed apart, and deleting it left them.
    acme = keys.headers("acme")
    upload = _upload(client, keys, ("faq.csv", FAQ))
    assert upload.status_code == 202, upload.text
    assert finished_job(client, keys, upload.json()["job"]["id"])["status"] == "succeeded"
    listed = client.get("/v1/kb/documents", headers=acme).json()["documents"]
    faqs = [d for d in listed if d["doc_id"].startswith("faq.csv")]
    assert [(d["doc_id"], d["status"]) for d in faqs] == [("faq.csv", "indexed")]
    assert faqs[0]["chunk_count"] >= 2
    top_up = {"query": "how do I top up a prepaid SIM with a voucher"}
    porting = {"query": "can I keep my phone number when I switch to Acme"}
    assert client.post("/v1/search", json=top_up, headers=acme).json()["passages"][0]["doc_id"] == "faq.csv#1"
    assert client.post("/v1/search", json=porting, headers=acme).json()["passages"][0]["doc_id"] == (
        "faq.csv#porting"
    )

    assert client.delete("/v1/kb/documents/faq.csv", headers=acme).status_code == 204
    for query in (top_up, porting):
        found = client.post("/v1/search", json=query, headers=acme).json()["passages"]
        assert not [p for p in found if p["doc_id"].startswith("faq.csv")]
    listed = client.get("/v1/kb/documents", headers=acme).json()["documents"]
    assert not [d for d in listed if d["doc_id"].startswith("faq.csv")]
    assert client.delete("/v1/kb/documents/faq.csv", headers=acme).status_code == 404


@pytest.mark.usefixtures("worker")
def test_a_markdown_file_with_long_blank_runs_is_indexed_in_linear_time(
    client: TestClient, keys: Keys
) -> None:
    # The heading and line-break patterns took time quadratic in a line's length: this 200 kB upload held
    # the shared indexing worker (every partner's jobs) for about a minute; 20 MB, the body limit, for days.
    blanks = " " * 100_000
    article = f"# Opening hours{blanks}in store\n\nOpen from nine{blanks}to six.\n".encode()
    upload = _upload(client, keys, ("hours.md", article))
    assert upload.status_code == 202, upload.text
    job = finished_job(client, keys, upload.json()["job"]["id"], timeout_s=20)
    assert job["status"] == "succeeded", job
    listed = {
        d["doc_id"]: d
        for d in client.get("/v1/kb/documents", headers=keys.headers("acme")).json()["documents"]
    }
    # Cut to the title column's 500 characters: longer, PostgreSQL refused the row and failed the job, with
    # the SQL statement as the job's error.
    title = listed["hours.md"]["title"]
    assert title.startswith("Opening hours  ") and len(title) == 500
    assert client.delete("/v1/kb/documents/hours.md", headers=keys.headers("acme")).status_code == 204


def test_a_file_that_fails_to_index_is_named_as_it_was_sent(
    client: TestClient, keys: Keys, settings: NAASettings
) -> None:
    acme = keys.headers("acme")
    upload = client.post("/v1/kb/documents", files={"files": ("latin1.md", b"caf\xe9 ouvert")}, headers=acme)
    assert upload.status_code == 202, upload.text
    job = finished_job(client, keys, upload.json()["job"]["id"])
    assert job["status"] == "failed"
    assert not list(Workspace(settings.data_dir).uploads_dir("acme").glob("*/latin1.md"))
    assert job["error"].startswith("latin1.md is not UTF-8 text"), job["error"]  # not the server's path
    listed = {d["doc_id"]: d for d in client.get("/v1/kb/documents", headers=acme).json()["documents"]}
    assert listed["latin1.md"]["status"] == "failed" and "uploads" not in listed["latin1.md"]["error"]


def test_a_file_name_with_a_hash_is_refused(client: TestClient, keys: Keys) -> None:
    # '#' joins a FAQ file's name to its entries' ids: "a.md#b.md" would be deleted with "a.md".
    hashed = _upload(client, keys, ("a.md#b.md", b"# B\n\ntext\n"))
    assert (hashed.status_code, hashed.json()["code"]) == (422, "invalid_input")
    assert "#" in hashed.json()["message"]


@pytest.mark.usefixtures("worker")
def test_parallel_uploads_of_one_file_name_give_one_upload_and_409s(
    client: TestClient, keys: Keys, settings: NAASettings
) -> None:
    # They were 500s: the inserts of the same document id broke the unique constraint.
    uploads = Workspace(settings.data_dir).uploads_dir("acme")
    folders = set(uploads.iterdir()) if uploads.exists() else set()
    race = ("race.md", b"# Race\n\nOnly one of these uploads is stored.\n")
    responses = send_together([lambda: _upload(client, keys, race)] * 4)
    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409], [r.text for r in responses]
    conflicts = [r.json() for r in responses if r.status_code == 409]
    assert all(c["code"] == "conflict" and "race.md" in c["message"] for c in conflicts)
    (accepted,) = [r for r in responses if r.status_code == 202]
    assert finished_job(client, keys, accepted.json()["job"]["id"])["status"] == "succeeded"
    # The refused uploads left no files, and the accepted one's went when its job ended.
    assert set(uploads.iterdir()) <= folders
    assert client.delete("/v1/kb/documents/race.md", headers=keys.headers("acme")).status_code == 204


@pytest.mark.usefixtures("worker")
def test_a_document_deleted_while_its_job_runs_is_not_indexed(client: TestClient, keys: Keys) -> None:
    # Long enough (about 400 chunks, seconds on 2 cores) that the delete lands while the job embeds it; the
    # job then finds the row gone when it records what it indexed, and takes the document out again.
    acme = keys.headers("acme")
    sections = (
        f"## Shed {i}\n\nPaddle board {i} is kept in boathouse shed {i}, rack {i % 7}." for i in range(400)
    )
    upload = _upload(client, keys, ("boathouse.md", "\n\n".join(sections).encode()))
    job_id = upload.json()["job"]["id"]
    while client.get(f"/v1/jobs/{job_id}", headers=acme).json()["status"] == "queued":
        time.sleep(0.01)
    assert client.delete("/v1/kb/documents/boathouse.md", headers=acme).status_code == 204
    assert finished_job(client, keys, job_id)["status"] == "succeeded"
    listed = client.get("/v1/kb/documents", headers=acme).json()["documents"]
    assert "boathouse.md" not in [d["doc_id"] for d in listed]
    found = client.post("/v1/search", json={"query": "paddle board boathouse shed"}, headers=acme).json()
    assert "boathouse.md" not in [p["doc_id"] for p in found["passages"]]


def test_jobs_are_listed_newest_first_page_by_page(client: TestClient, keys: Keys) -> None:
    acme = keys.headers("acme")
    for name in ("paging-a.md", "paging-b.md"):  # a job each
        files = {"files": (f"{uuid.uuid4().hex[:6]}-{name}", b"# Paging\n\nOne page at a time.")}
        assert client.post("/v1/kb/documents", files=files, headers=acme).status_code == 202
    every = [j["id"] for j in client.get("/v1/jobs", params={"limit": 200}, headers=acme).json()["jobs"]]
    first = client.get("/v1/jobs", params={"limit": 1}, headers=acme).json()["jobs"]
    second = client.get("/v1/jobs", params={"limit": 1, "offset": 1}, headers=acme).json()["jobs"]
    assert [j["id"] for j in first + second] == every[:2]
