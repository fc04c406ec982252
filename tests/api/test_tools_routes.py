"""/v1/tools: a partner sees and runs only the tools its config enables."""

from api_support import Keys
from fastapi.testclient import TestClient


def test_a_partner_without_tools_lists_none_and_cannot_run_one(client: TestClient, keys: Keys) -> None:
    listed = client.get("/v1/tools", headers=keys.headers("acme"))
    run = client.post(
        "/v1/tools/order_lookup", json={"arguments": {"order_id": "A1001"}}, headers=keys.headers("acme")
    )

    assert listed.status_code == 200 and listed.json() == {"tools": []}
    assert run.status_code == 404
    assert run.json() == {
        "code": "not_found",
        "message": "no tool 'order_lookup' is enabled for this partner (enabled: none)",
    }
