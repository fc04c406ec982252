"""Two partners side by side: one partner's key never reaches the other's data."""

import io

import pytest
from api_support import Keys, finished_job
from fastapi.testclient import TestClient


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
