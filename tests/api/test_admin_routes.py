"""Admin routes: partners from YAML and their API keys, behind the admin key."""

from fastapi.testclient import TestClient

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
