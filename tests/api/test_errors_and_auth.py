"""Bad input and bad credentials: every error is a 4xx with exactly {code, message}."""

import re
import socket
from urllib.parse import urlsplit

import pytest
from api_support import Keys
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.main import create_app
from naa.config.settings import NAASettings

ADMIN = {"Authorization": "Bearer test-admin-key-of-24-chars"}


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


def _status_before_the_body(url: str, method: str, path: str, headers: dict[str, str]) -> int:
    """The status a served API answers to a request whose body never comes: only the headers, announcing
    100 kB, are sent. A server that read the body first would wait and time out here."""
    host, port = urlsplit(url).netloc.split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Content-Length: 100000"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_a_request_without_a_valid_key_is_refused_before_its_body_is_read(
    app: FastAPI, served_url: str
) -> None:
    with_body = [
        (method.upper(), re.sub(r"\{\w+\}", "x", path), operation)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(with_body) > 15
    for method, path, operation in with_body:
        (media_type, *_) = operation["requestBody"]["content"]
        content_type = (
            "multipart/form-data; boundary=b" if media_type.startswith("multipart/") else media_type
        )
        for key in ({}, {"Authorization": "Bearer naa_not-a-key"}):
            headers = {"Content-Type": content_type, **key}
            assert _status_before_the_body(served_url, method, path, headers) == 401, (method, path, key)


def test_json_bodies_have_a_smaller_limit_than_uploads_even_without_a_key(
    settings: NAASettings, keys: Keys
) -> None:
    # FastAPI parses a JSON body in the event loop: 15 MB held it for 0.4 s. The limit comes before the key.
    with TestClient(create_app(settings, max_body_bytes=256 * 1024, max_json_bytes=64 * 1024)) as client:
        big = {"message": "a" * (100 * 1024)}
        for headers in ({}, keys.headers("acme")):
            refused = client.post("/v1/chat", json=big, headers=headers)
            message = _error(refused, 413, "payload_too_large")
            assert message.endswith("at most 65536 (a multipart upload: 262144)"), message
        # An upload as large is read, and refused for what it holds (no task in it), not for its size.
        upload = {"file": ("tasks.jsonl", b" " * (100 * 1024))}
        read = client.put("/v1/training/tasks", files=upload, headers=keys.headers("acme"))
        assert "holds no tasks" in _error(read, 422, "invalid_input")


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
    for lax in ({"message": "hi", "stream": "yes"}, {"message": "hi", "stream": 1}):  # true only in lax mode
        assert "body.stream" in _error(
            client.post("/v1/chat", json=lax, headers=keys.headers("acme")), 422, "invalid_request"
        )
    for sent in ({"data": {"message": "hi"}}, {"content": b'{"message": "hi"}'}):  # a form; text, unlabelled
        not_json = client.post("/v1/chat", headers=keys.headers("acme"), **sent)  # type: ignore[arg-type]
        assert "Content-Type: application/json" in _error(not_json, 415, "unsupported_media_type")


def test_unknown_objects_and_routes_are_404s_in_the_same_shape(client: TestClient, keys: Keys) -> None:
    _error(client.get("/v1/conversations/nope", headers=keys.headers("acme")), 404, "not_found")
    _error(client.get("/v1/jobs/nope", headers=keys.headers("acme")), 404, "not_found")
    assert "no route" in _error(client.get("/v1/nothing-here"), 404, "not_found")
    _error(client.put("/healthz"), 405, "method_not_allowed")


# Each was a 500 (found by schemathesis and by hand): JSON may spell a lone surrogate or NUL, Python's parser
# keeps it, and the tokenizer, the file system or PostgreSQL failed on it. The raw bytes hold the escapes.
@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        (
            "POST",
            "/v1/intents/classify",
            rb'{"texts": ["ok", "\ud800"]}',
            "texts.1 contains a lone surrogate",
        ),
        ("POST", "/v1/chat", rb'{"message": "hi", "conversation_id": "\udfff"}', "conversation_id"),
        ("POST", "/v1/suggest", rb'{"conversation_id": "\ud800"}', "conversation_id"),
        ("POST", "/v1/feedback", rb'{"message_id": "\ud800", "rating": "up"}', "message_id"),
        ("PUT", "/v1/generator", rb'{"model_version": "\ud800"}', "model_version"),
        ("POST", "/v1/training/runs", rb'{"tasks": "\ud800"}', "tasks contains a lone surrogate"),
        ("POST", "/v1/training/runs", rb'{"tasks": "rl/\u0000.jsonl"}', "tasks contains NUL"),
        ("POST", "/v1/tools/order_lookup", rb'{"arguments": {"\ud800": 1}}', "arguments.\\ud800"),
    ],
)
def test_strings_that_are_not_text_are_a_422_naming_the_field(
    client: TestClient, keys: Keys, method: str, path: str, body: bytes, where: str
) -> None:
    headers = {**keys.headers("acme"), "content-type": "application/json"}
    message = _error(client.request(method, path, content=body, headers=headers), 422, "invalid_request")
    assert message.startswith(f"body: {where}"), message


def test_a_turn_with_nul_is_refused_before_the_database_sees_it(client: TestClient, keys: Keys) -> None:
    # PostgreSQL refuses NUL in a text column: this was a 500 there, and stored as given in SQLite.
    conversation = client.post("/v1/conversations", headers=keys.headers("acme")).json()["id"]
    headers = {**keys.headers("acme"), "content-type": "application/json"}
    body = rb'{"role": "customer", "content": "my order\u0000"}'
    turn = client.post(f"/v1/conversations/{conversation}/messages", content=body, headers=headers)
    assert "content contains NUL" in _error(turn, 422, "invalid_request")
    assert (
        client.get(f"/v1/conversations/{conversation}", headers=keys.headers("acme")).json()["messages"] == []
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/conversations/a%00b",
        "/v1/jobs/a%00b",
        "/v1/training/runs/a%00b",
        "/v1/model-versions/a%00b",
        "/v1/admin/partners/a%00b/keys",
    ],
)
def test_an_id_with_nul_in_the_path_names_nothing(client: TestClient, keys: Keys, path: str) -> None:
    # Each was a 500 on PostgreSQL, which refuses NUL in the lookup's parameter.
    headers = ADMIN if path.startswith("/v1/admin/") else keys.headers("acme")
    assert "no id holds NUL" in _error(client.get(path, headers=headers), 404, "not_found")


def test_bodies_the_framework_cannot_parse_are_422s_like_bad_json(client: TestClient, keys: Keys) -> None:
    # Each was a 400, a status no route documents, with the code http_error.
    headers = {**keys.headers("acme"), "content-type": "application/json"}
    not_utf8 = client.post("/v1/search", content=b'{"query": "\xff"}', headers=headers)
    assert "not UTF-8" in _error(not_utf8, 422, "malformed_json")
    deep = client.post("/v1/search", content=b"[" * 100_000 + b"]" * 100_000, headers=headers)
    assert "nests too deeply" in _error(deep, 422, "malformed_json")
    no_boundary = client.post(
        "/v1/kb/documents",
        content=b"garbage",
        headers={**keys.headers("acme"), "content-type": "multipart/form-data"},
    )
    assert "boundary" in _error(no_boundary, 422, "malformed_body")


def test_an_api_path_called_with_another_method_is_a_405_naming_every_allowed_one(
    client: TestClient, keys: Keys
) -> None:
    # Found by schemathesis. The console, mounted at /, took these: GET /v1/chat was a 404, OPTIONS a 405
    # allowing GET and HEAD. And the router's 405 named the first route's methods only: Allow: POST here.
    for method in ("GET", "OPTIONS", "PUT"):
        response = client.request(method, "/v1/chat", headers=keys.headers("acme"))
        assert "/v1/chat takes POST, not" in _error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST", method
    both = client.delete("/v1/conversations", headers=keys.headers("acme"))
    _error(both, 405, "method_not_allowed")
    assert both.headers["allow"] == "GET, POST"
