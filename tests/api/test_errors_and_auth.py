"""Bad input and bad credentials: every error is a 4xx with exactly {code, message}."""

from api_support import Keys
from fastapi.testclient import TestClient
from httpx import Response

ADMIN = {"Authorization": "Bearer test-admin-key"}


def _error(response: Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert body["message"]
    message: str = body["message"]
    return message


def test_partner_routes_need_a_known_live_key(client: TestClient, keys: Keys) -> None:
    assert "Authorization: Bearer" in _error(client.get("/v1/conversations"), 401, "unauthorized")
    unknown = client.get("/v1/conversations", headers={"Authorization": "Bearer naa_not-a-key"})
    _error(unknown, 401, "unauthorized")
    assert unknown.headers["www-authenticate"] == "Bearer"
    created = client.post("/v1/admin/partners/acme/keys", json={"name": "short-lived"}, headers=ADMIN).json()
    revoked_key = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/conversations", headers=revoked_key).status_code == 200
    client.delete(f"/v1/admin/partners/acme/keys/{created['id']}", headers=ADMIN)
    _error(client.get("/v1/conversations", headers=revoked_key), 401, "unauthorized")


def test_keys_are_used_only_in_their_scope(client: TestClient, keys: Keys) -> None:
    _error(client.get("/v1/admin/partners", headers=keys.headers("acme")), 403, "forbidden")
    _error(client.get("/v1/conversations", headers=ADMIN), 403, "forbidden")


def test_bodies_over_the_limit_are_refused_before_they_are_read(client: TestClient, keys: Keys) -> None:
    big = b'{"message": "' + b"a" * (300 * 1024) + b'"}'
    declared = client.post(
        "/v1/chat", content=big, headers={**keys.headers("acme"), "content-type": "application/json"}
    )
    assert "at most 262144" in _error(declared, 413, "payload_too_large")

    def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    chunked = client.post(
        "/v1/chat", content=chunks(), headers={**keys.headers("acme"), "content-type": "application/json"}
    )
    _error(chunked, 413, "payload_too_large")


def test_malformed_json_and_invalid_fields_are_422_with_the_field_named(
    client: TestClient, keys: Keys
) -> None:
    headers = {**keys.headers("acme"), "content-type": "application/json"}
    assert "not valid JSON" in _error(
        client.post("/v1/chat", content=b'{"message": ', headers=headers), 422, "malformed_json"
    )
    missing = client.post("/v1/chat", json={"text": "hi"}, headers=keys.headers("acme"))
    assert _error(missing, 422, "invalid_request").startswith("body.message: Field required")
    empty = client.post("/v1/chat", json={"message": ""}, headers=keys.headers("acme"))
    assert "body.message" in _error(empty, 422, "invalid_request")


def test_unknown_objects_and_routes_are_404s_in_the_same_shape(client: TestClient, keys: Keys) -> None:
    _error(client.get("/v1/conversations/nope", headers=keys.headers("acme")), 404, "not_found")
    _error(client.get("/v1/jobs/nope", headers=keys.headers("acme")), 404, "not_found")
    assert "no route" in _error(client.get("/v1/nothing-here"), 404, "not_found")
    _error(client.put("/healthz"), 405, "method_not_allowed")
