"""Two partners side by side: one partner's key never reaches the other's data."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Keys, finished_job
from fastapi import FastAPI
from fastapi.testclient import TestClient

from naa.rl.tasks import parse_task, save_tasks
from naa.storage import model_versions
from naa.storage.models import ModelKind, ModelVersion
from naa.storage.session import session_scope


def test_a_partner_cannot_read_or_rate_another_partners_conversations(client: TestClient, keys: Keys) -> None:
    turn = client.post(
        "/v1/chat", json={"message": "roaming charges in France"}, headers=keys.headers("acme")
    ).json()
    conversation, message = turn["conversation_id"], turn["message_id"]
    globex = keys.headers("globex")
    assert client.get(f"/v1/conversations/{conversation}", headers=globex).status_code == 404
    listed = client.get("/v1/conversations", params={"limit": 200}, headers=globex).json()["conversations"]
    assert conversation not in [c["id"] for c in listed]
    exported = client.get("/v1/conversations/export", headers=globex).json()["conversations"]
    assert conversation not in [c["id"] for c in exported]
    continued = client.post(
        "/v1/chat", json={"message": "hi", "conversation_id": conversation}, headers=globex
    )
    assert continued.status_code == 404
    rated = client.post("/v1/feedback", json={"message_id": message, "rating": "up"}, headers=globex)
    assert rated.status_code == 404
    client.post("/v1/feedback", json={"message_id": message, "rating": "up"}, headers=keys.headers("acme"))
    assert message not in [
        f["message_id"] for f in client.get("/v1/feedback", headers=globex).json()["feedback"]
    ]


def test_a_partner_cannot_add_turns_to_or_get_suggestions_for_another_partners_conversation(
    client: TestClient, keys: Keys
) -> None:
    acme, globex = keys.headers("acme"), keys.headers("globex")
    conversation = client.post("/v1/conversations", headers=acme).json()["id"]
    turn = {"role": "customer", "content": "how much is roaming in Spain"}
    client.post(f"/v1/conversations/{conversation}/messages", json=turn, headers=acme)
    injected = client.post(f"/v1/conversations/{conversation}/messages", json=turn, headers=globex)
    assert (injected.status_code, injected.json()["code"]) == (404, "not_found")
    suggested = client.post("/v1/suggest", json={"conversation_id": conversation}, headers=globex)
    assert suggested.status_code == 404
    stored = client.get(f"/v1/conversations/{conversation}", headers=acme).json()
    assert len(stored["messages"]) == 1


@pytest.mark.usefixtures("worker")
def test_a_partner_cannot_see_search_or_delete_another_partners_documents_or_jobs(
    client: TestClient, keys: Keys
) -> None:
    globex = keys.headers("globex")
    upload = client.post(
        "/v1/kb/documents",
        files={"files": ("acme-secret-plans.md", io.BytesIO(b"# Plans\n\nAcme's secret tariff is 1 euro."))},
        headers=keys.headers("acme"),
    )
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["job"]["id"]
    assert client.get(f"/v1/jobs/{job_id}", headers=globex).status_code == 404
    assert client.post(f"/v1/jobs/{job_id}/cancel", headers=globex).status_code == 404
    assert job_id not in [j["id"] for j in client.get("/v1/jobs", headers=globex).json()["jobs"]]
    globex_docs = [d["doc_id"] for d in client.get("/v1/kb/documents", headers=globex).json()["documents"]]
    assert globex_docs == ["cards.md", "transfers.md"]
    assert client.delete("/v1/kb/documents/roaming.md", headers=globex).status_code == 404
    found = client.post("/v1/search", json={"query": "roaming data abroad in the EU"}, headers=globex).json()
    assert all(p["doc_id"] in ("cards.md", "transfers.md") for p in found["passages"])
    finished_job(client, keys, job_id, timeout_s=60)  # the worker is idle for the next test


@pytest.fixture
def acme_version(app: FastAPI, data_dir: Path) -> Iterator[str]:
    """A generator version of acme's, registered as a finished run registers one; removed after the test."""
    with session_scope(app.state.naa.sessions) as session:
        row = model_versions.register_model_version(
            session, "acme", ModelKind.GENERATOR, "acme-secret-tuning", data_dir / "partners" / "acme" / "rl"
        )
        version_id = row.id
    yield "acme-secret-tuning"
    with session_scope(app.state.naa.sessions) as session:
        session.delete(session.get(ModelVersion, version_id))


def test_a_partner_cannot_train_from_or_serve_another_partners_versions_or_files(
    client: TestClient, keys: Keys, data_dir: Path, acme_version: str
) -> None:
    globex = keys.headers("globex")
    task = {
        "id": "t0",
        "type": "refusal",
        "messages": [{"role": "user", "content": "x"}],
        "hint": "h",
        "answer": False,
    }
    acme_tasks, globex_tasks, link = (
        data_dir / "partners" / partner / "rl" / name
        for partner, name in [("acme", "secret.jsonl"), ("globex", "own.jsonl"), ("globex", "linked.jsonl")]
    )
    for path in (acme_tasks, globex_tasks):
        save_tasks([parse_task(task)], path)
    # A link inside globex's folder (left by an operator, say) to acme's file: the path is resolved first.
    link.unlink(missing_ok=True)
    link.symlink_to(acme_tasks)
    runs_before = client.get("/v1/training/runs", headers=globex).json()["runs"]
    for fields, message in [
        ({"tasks": "rl/linked.jsonl"}, "tasks: 'rl/linked.jsonl' is outside the partner's folder"),
        ({"tasks": str(acme_tasks)}, "is outside the partner's folder"),
        ({"tasks": "../acme/rl/secret.jsonl"}, "is outside the partner's folder"),
        ({"model": f"version:{acme_version}"}, f"model: no generator version {acme_version!r}"),
    ]:
        body = {"tasks": "rl/own.jsonl", "variant": "vanilla", **fields}
        refused = client.post("/v1/training/runs", json=body, headers=globex)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_config"), refused.text
        assert message in refused.json()["message"]
    assert client.get("/v1/training/runs", headers=globex).json()["runs"] == runs_before
    served = client.put("/v1/generator", json={"model_version": acme_version}, headers=globex)
    assert (served.status_code, served.json()["code"]) == (404, "not_found")
    assert acme_version not in str(client.get("/v1/model-versions", headers=globex).json())
