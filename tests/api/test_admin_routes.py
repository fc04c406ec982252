"""Admin routes: partners from YAML and their API keys, behind the admin key."""

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Keys, send_together, write_partner
from fastapi.testclient import TestClient
from plugin_dists import installed_plugin

from api.assistants import serving_revision
from naa.intent.model_files import META_FILE
from naa.storage import jobs, partners
from naa.storage.models import JobKind
from naa.storage.session import session_scope

ADMIN = {"Authorization": "Bearer test-admin-key-of-24-chars"}
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


def _unique(name: str) -> str:
    """A partner id of this test run: the data dir is shared by the SQLite and PostgreSQL runs."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_a_config_with_relative_paths_is_refused_at_once_and_the_id_stays_free(
    client: TestClient, tmp_path: Path, tiny_lm_dir: Path
) -> None:
    # Such a config was stored, its build failed ("intent examples file intents.yaml does not exist"), and
    # posting the fixed file was a 409: the id was stuck.
    partner_id = _unique("wayne")
    text = write_partner(tmp_path, partner_id, "Wayne", tiny_lm_dir, like="acme").read_text()
    absolute = str(tmp_path / partner_id / "intents.yaml")
    relative = text.replace(absolute, "intents.yaml")
    refused = client.post("/v1/admin/partners", json={"config_yaml": relative}, headers=ADMIN)
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "invalid_config",
        "message": "config_yaml: intent.examples: 'intents.yaml' is a relative path, and a config sent as "
        "text has no folder to resolve it against: give the absolute path on the server",
    }
    sources = text.replace(str(tmp_path / partner_id / "kb"), "kb")
    refused = client.post("/v1/admin/partners", json={"config_yaml": sources}, headers=ADMIN)
    assert refused.json()["message"].startswith("config_yaml: knowledge_base.sources.0: 'kb' is a relative")
    # Where the file is in the partner's folder of the data dir, the message gives the path to write.
    folder = client.app.state.naa.workspace.partner_dir(partner_id)  # type: ignore[attr-defined]
    folder.mkdir(parents=True)
    (folder / "intents.yaml").write_text((tmp_path / partner_id / "intents.yaml").read_text())
    refused = client.post("/v1/admin/partners", json={"config_yaml": relative}, headers=ADMIN)
    assert refused.json()["message"].endswith(f"write '{(folder / 'intents.yaml').resolve()}'")
    missing = text.replace(absolute, "/nowhere/intents.yaml")
    refused = client.post("/v1/admin/partners", json={"config_yaml": missing}, headers=ADMIN)
    assert (
        "intent.examples: '/nowhere/intents.yaml' does not exist on the server" in refused.json()["message"]
    )
    assert client.post("/v1/admin/partners", json={"config_yaml": text}, headers=ADMIN).status_code == 201


def test_a_handoff_intent_the_examples_lack_is_refused(
    client: TestClient, tmp_path: Path, tiny_lm_dir: Path
) -> None:
    partner_id = _unique("stark")
    text = write_partner(tmp_path, partner_id, "Stark", tiny_lm_dir, like="acme").read_text()
    typo = text.replace("- complaint", "- no_such_intent")
    assert typo != text
    refused = client.post("/v1/admin/partners", json={"config_yaml": typo}, headers=ADMIN)
    assert refused.status_code == 422
    assert refused.json()["message"] == (
        "config_yaml: handoff.always: intent 'no_such_intent' is not defined by the intent examples in "
        f"{tmp_path / partner_id / 'intents.yaml'}: fix the name, or add examples for it to that file"
    )


def test_a_partner_config_is_replaced_and_the_partner_deleted_with_its_files(client: TestClient) -> None:
    partner_id = _unique("tyrell")
    text = f"id: {partner_id}\nname: Tyrell\n"
    created = client.post("/v1/admin/partners", json={"config_yaml": text}, headers=ADMIN).json()
    own = {"Authorization": f"Bearer {created['api_key']['key']}"}
    url = f"/v1/admin/partners/{partner_id}"

    replaced = client.put(url, json={"config_yaml": text.replace("Tyrell", "Tyrell Corp")}, headers=ADMIN)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["id"], replaced.json()["name"]) == (partner_id, "Tyrell Corp")
    state = client.app.state.naa  # type: ignore[attr-defined]
    with session_scope(state.sessions) as session:
        assert partners.partner_config(partners.get_partner(session, partner_id)).name == "Tyrell Corp"
    other = client.put(url, json={"config_yaml": "id: someone-else\nname: X\n"}, headers=ADMIN)
    assert (other.status_code, other.json()["code"]) == (422, "invalid_config")
    assert "says id 'someone-else'" in other.json()["message"]
    nobody = client.put(
        "/v1/admin/partners/nobody", json={"config_yaml": "id: nobody\nname: N\n"}, headers=ADMIN
    )
    assert nobody.status_code == 404

    folder = state.workspace.partner_dir(partner_id)
    (folder / "intent").mkdir(parents=True)
    (folder / "intent" / META_FILE).write_text("{}")
    deleted = client.delete(url, headers=ADMIN)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not folder.exists()
    assert not list(folder.parent.glob(f".deleted-{partner_id}-*"))
    assert client.get("/v1/conversations", headers=own).status_code == 401  # its keys went with it
    assert partner_id not in [
        p["id"] for p in client.get("/v1/admin/partners", headers=ADMIN).json()["partners"]
    ]
    assert client.delete(url, headers=ADMIN).status_code == 404
    assert client.post("/v1/admin/partners", json={"config_yaml": text}, headers=ADMIN).status_code == 201


def test_a_partner_with_a_job_not_ended_or_read_from_a_file_is_a_409(
    client: TestClient, tmp_path: Path
) -> None:
    partner_id = _unique("cyberdyne")
    text = f"id: {partner_id}\nname: Cyberdyne\n"
    client.post("/v1/admin/partners", json={"config_yaml": text}, headers=ADMIN)
    state = client.app.state.naa  # type: ignore[attr-defined]
    with session_scope(state.sessions) as session:
        job = jobs.create_job(session, partner_id, JobKind.INTENT_TRAIN)
    refused = client.delete(f"/v1/admin/partners/{partner_id}", headers=ADMIN)
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert f"partner {partner_id!r} has 1 job(s) queued or running" in refused.json()["message"]
    # The admin sees and cancels the partner's jobs without its key (it needed one before).
    listed = client.get(f"/v1/admin/partners/{partner_id}/jobs", headers=ADMIN)
    assert [(j["id"], j["status"]) for j in listed.json()["jobs"]] == [(job.id, "queued")]
    assert client.post(f"/v1/admin/partners/acme/jobs/{job.id}/cancel", headers=ADMIN).status_code == 404
    assert client.get("/v1/admin/partners/nobody/jobs", headers=ADMIN).status_code == 404
    cancelled = client.post(f"/v1/admin/partners/{partner_id}/jobs/{job.id}/cancel", headers=ADMIN)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = client.post(f"/v1/admin/partners/{partner_id}/jobs/{job.id}/cancel", headers=ADMIN)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert client.delete(f"/v1/admin/partners/{partner_id}", headers=ADMIN).status_code == 204

    file_id = _unique("file")
    path = tmp_path / "partner.yaml"
    path.write_text(f"id: {file_id}\nname: From a file\n")
    with session_scope(state.sessions) as session:
        partners.create_partner(session, file_id, "From a file", config_path=path)
    refused = client.put(
        f"/v1/admin/partners/{file_id}", json={"config_yaml": path.read_text()}, headers=ADMIN
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert f"read from its file {path}: edit that file" in refused.json()["message"]


def test_a_partner_key_on_an_admin_route_is_told_how_to_get_the_admin_key(
    client: TestClient, keys: Keys
) -> None:
    refused = client.get("/v1/admin/partners", headers=keys.headers("acme"))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    message = refused.json()["message"]
    assert "NAA_ADMIN_KEY" in message and "Authorization: Bearer" in message


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


def test_a_build_of_a_partner_whose_plugin_is_missing_is_refused_before_any_job(client: TestClient) -> None:
    # The jobs were queued and ran; the first chat then failed on the missing post-processor.
    partner_id = f"plug-{uuid.uuid4().hex[:8]}"
    config = f"id: {partner_id}\nname: Plug\npostprocessors:\n  - name: no_such_footer\n"
    created = client.post("/v1/admin/partners", json={"config_yaml": config}, headers=ADMIN)
    own = {"Authorization": f"Bearer {created.json()['api_key']['key']}"}
    build = client.post(f"/v1/admin/partners/{partner_id}/build", headers=ADMIN)
    assert (build.status_code, build.json()["code"]) == (422, "invalid_config")
    assert "no postprocessor plugin named 'no_such_footer'" in build.json()["message"]
    assert client.get("/v1/jobs", headers=own).json()["jobs"] == []


OWN_MODELS_PLUGIN = """
from naa.config.plugins import Plugin


class Rules:
    def warm_up(self):
        pass

    def predict(self, texts):
        return []


class Catalogue:
    def warm_up(self):
        pass

    def search(self, queries, top_k=None):
        return [[] for _ in queries]


plugin = Plugin("own-models", {"intent_classifier": {"rules": Rules}, "retriever": {"catalogue": Catalogue}})
"""


@pytest.fixture
def own_models_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plugin package with its own intent classifier and retriever, installed as pip would."""
    with installed_plugin(tmp_path / "site", monkeypatch, "own_models", OWN_MODELS_PLUGIN):
        yield


def test_a_build_queues_no_training_or_indexing_for_what_the_partners_plugins_do(
    client: TestClient, tmp_path: Path, own_models_plugin: None
) -> None:
    """Both jobs were queued whatever the partner named, and failed for a plugin classifier or retriever
    (`naa build` skipped them)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tariffs.md").write_text("# Tariffs\n\nThe fixed tariff costs 30 pence a kWh.\n")
    plugin_intent = "intent: {backend: plugin, name: rules}\n"
    cases = [
        (plugin_intent + "retrieval: {backend: plugin, name: catalogue}\n", []),
        (plugin_intent + f"knowledge_base: {{sources: ['{docs}']}}\n", ["kb_index"]),
    ]
    for components, kinds in cases:
        partner_id = f"energy-{uuid.uuid4().hex[:8]}"
        config = f"id: {partner_id}\nname: Hollowmere Energy\n{components}"
        created = client.post("/v1/admin/partners", json={"config_yaml": config}, headers=ADMIN)
        assert created.status_code == 201, created.text
        build = client.post(f"/v1/admin/partners/{partner_id}/build", headers=ADMIN)
        assert build.status_code == 202, build.text
        assert [job["kind"] for job in build.json()["jobs"]] == kinds
        for job in build.json()["jobs"]:
            client.post(f"/v1/admin/partners/{partner_id}/jobs/{job['id']}/cancel", headers=ADMIN)


def test_the_knowledge_base_routes_of_a_partner_whose_retriever_is_a_plugin_say_so(
    client: TestClient, own_models_plugin: None
) -> None:
    # Listing was a 422 (invalid_config) and an upload was queued, then its job failed.
    partner_id = f"energy-{uuid.uuid4().hex[:8]}"
    config = f"id: {partner_id}\nname: Hollowmere Energy\nretrieval: {{backend: plugin, name: catalogue}}\n"
    created = client.post("/v1/admin/partners", json={"config_yaml": config}, headers=ADMIN)
    own = {"Authorization": f"Bearer {created.json()['api_key']['key']}"}
    upload = {"files": ("tariffs.md", b"# Tariffs\n\n30 pence a kWh.\n", "text/markdown")}
    for response in (
        client.get("/v1/kb/documents", headers=own),
        client.post("/v1/kb/documents", files=upload, headers=own),
        client.delete("/v1/kb/documents/tariffs.md", headers=own),
    ):
        assert (response.status_code, response.json()["code"]) == (409, "conflict"), response.text
        assert "retrieves with the plugin 'catalogue'" in response.json()["message"]
    assert client.get("/v1/jobs", headers=own).json()["jobs"] == []
