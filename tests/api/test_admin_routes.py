"""Admin routes: partners from YAML and their API keys, behind the admin key."""

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_support import Keys, send_together, write_partner
from fastapi.testclient import TestClient

from api.assistants import serving_revision
from naa.intent.model_files import META_FILE
from naa.storage import partners
from naa.storage.session import session_scope

ADMIN = {"Authorization": "Bearer test-admin-key"}
INITECH = "id: initech\nname: Initech Telecom\nhandoff:\n  always: [complaint]\n"


def test_a_partner_created_from_yaml_gets_a_working_key_and_starts_empty(client: TestClient) -> None:
    created = client.post("/v1/admin/partners", json={"config_yaml": INITECH}, headers=ADMIN)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["partner"]["id"] == "initech"
    assert body["api_key"]["key"].startswith(body["api_key"]["prefix"])
    own = {"Authorization": f"Bearer {body['api_key']['key']}"}
    assert client.get("/v1/conversations", headers=own).json() == {"conversations": []}
    assert "initech" in [p["id"] for p in client.get("/v1/admin/partners", headers=ADMIN).json()["partners"]]
    again = client.post("/v1/admin/partners", json={"config_yaml": INITECH}, headers=ADMIN)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_a_partner_file_with_a_typo_is_refused_with_its_field_path(client: TestClient) -> None:
    typo = client.post(
        "/v1/admin/partners", json={"config_yaml": "id: x1\nname: X\nhandof: {}\n"}, headers=ADMIN
    )
    assert typo.status_code == 422
    assert typo.json() == {
        "code": "invalid_config",
        "message": "config_yaml: handof: Extra inputs are not permitted",
    }
    broken = client.post("/v1/admin/partners", json={"config_yaml": "id: [unclosed"}, headers=ADMIN)
    assert (broken.status_code, broken.json()["code"]) == (422, "invalid_config")
    assert "not valid YAML" in broken.json()["message"]
    # Past the partners.name column: a 500 on PostgreSQL before the config limited it.
    long_name = client.post(
        "/v1/admin/partners", json={"config_yaml": f"id: x2\nname: {'N' * 201}\n"}, headers=ADMIN
    )
    assert (long_name.status_code, long_name.json()["code"]) == (422, "invalid_config")
    assert long_name.json()["message"].startswith("config_yaml: name: String should have at most 200")


def test_keys_are_created_listed_and_revoked(client: TestClient) -> None:
    client.post("/v1/admin/partners", json={"config_yaml": "id: umbrella\nname: Umbrella\n"}, headers=ADMIN)
    key = client.post("/v1/admin/partners/umbrella/keys", json={"name": "console"}, headers=ADMIN).json()
    listed = client.get("/v1/admin/partners/umbrella/keys", headers=ADMIN).json()["keys"]
    assert key["id"] in [k["id"] for k in listed]
    assert all("key" not in k for k in listed)
    revoked = client.delete(f"/v1/admin/partners/umbrella/keys/{key['id']}", headers=ADMIN).json()
    assert revoked["revoked_at"] is not None
    assert client.get("/v1/admin/partners/nobody/keys", headers=ADMIN).status_code == 404
    assert client.post("/v1/admin/partners/nobody/keys", json={"name": "x"}, headers=ADMIN).status_code == 404


def test_parallel_creations_of_one_partner_give_one_partner_and_409s(client: TestClient) -> None:
    # They were 500s: the inserts of the same partner id broke the primary key.
    body = {"config_yaml": "id: soylent\nname: Soylent\n"}
    responses = send_together([lambda: client.post("/v1/admin/partners", json=body, headers=ADMIN)] * 3)
    assert sorted(r.status_code for r in responses) == [201, 409, 409], [r.text for r in responses]
    conflicts = [r.json() for r in responses if r.status_code == 409]
    assert all(c["code"] == "conflict" and "soylent" in c["message"] for c in conflicts)


def _finished(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.usefixtures("worker")
def test_a_partner_created_through_the_api_is_built_by_jobs_then_answers(
    client: TestClient, tmp_path: Path, tiny_lm_dir: Path
) -> None:
    partner_id = f"hooli-{uuid.uuid4().hex[:8]}"  # the data dir is shared by the SQLite and PostgreSQL runs
    config = write_partner(tmp_path, partner_id, "Hooli Mobile", tiny_lm_dir, like="acme").read_text()
    created = client.post("/v1/admin/partners", json={"config_yaml": config}, headers=ADMIN).json()
    own = {"Authorization": f"Bearer {created['api_key']['key']}"}
    question = {"message": "does my plan work abroad"}
    unbuilt = client.post("/v1/chat", json=question, headers=own)
    assert unbuilt.status_code == 409
    assert f"POST /v1/admin/partners/{partner_id}/build" in unbuilt.json()["message"]

    build = client.post(f"/v1/admin/partners/{partner_id}/build", headers=ADMIN)
    assert build.status_code == 202
    assert [j["kind"] for j in build.json()["jobs"]] == ["intent_train", "kb_index"]
    for job in build.json()["jobs"]:
        assert _finished(client, own, job["id"])["status"] == "succeeded"
    answered = client.post("/v1/chat", json=question, headers=own).json()
    assert answered["intent"]["label"] == "roaming"
    assert answered["citations"][0]["doc_id"] == "roaming.md"


def test_an_assistant_is_rebuilt_only_when_its_intent_model_or_partner_row_changes(
    client: TestClient, keys: Keys
) -> None:
    state = client.app.state.naa  # type: ignore[attr-defined]
    client.post("/v1/intents/classify", json={"texts": ["hi"]}, headers=keys.headers("acme"))
    with session_scope(state.sessions) as session:
        revision = serving_revision(partners.get_partner(session, "acme"))
    first = state.assistants.get("acme", revision, _never)
    assert state.assistants.get("acme", revision, _never) is first
    meta = state.workspace.intent_dir("acme") / META_FILE
    os.utime(meta, ns=(meta.stat().st_atime_ns, meta.stat().st_mtime_ns + 1_000_000))
    rebuilt = state.assistants.get("acme", revision, lambda: first.config)
    assert rebuilt is not first
    assert rebuilt.generator is first.generator  # the model is loaded once and shared
    assert state.assistants.get("acme", ("another", "row"), lambda: first.config) is not rebuilt


def _never() -> Any:
    raise AssertionError("the cached assistant should have been used")
