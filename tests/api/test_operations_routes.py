"""/healthz, /metrics and the OpenAPI document."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from api_support import Keys
from fastapi.testclient import TestClient


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_per_route_template_and_time_each_assistant_stage(
    client: TestClient, keys: Keys
) -> None:
    client.post("/v1/chat", json={"message": "when is my bill due"}, headers=keys.headers("acme"))
    client.get("/v1/conversations/some-id", headers=keys.headers("acme"))
    text = client.get("/metrics").text
    assert 'naa_http_requests_total{method="POST",route="/v1/chat",status="200"}' in text
    assert 'route="/v1/conversations/{conversation_id}",status="404"' in text
    assert 'naa_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/chat"}' in text
    for stage in ("intent", "retrieval", "generation", "total"):
        assert f'naa_assistant_stage_duration_seconds_count{{stage="{stage}"}}' in text


def test_every_operation_is_documented_with_a_summary_a_tag_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def has_example(ref: dict) -> bool:
        name = ref.get("$ref", "").rsplit("/", 1)[-1]
        return bool(schemas.get(name, {}).get("examples")) if name else "example" in ref

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("tags"), where
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                documented = "example" in media or has_example(media["schema"])
                assert documented, f"{where}: request body has no example"
            ok = next(r for status, r in operation["responses"].items() if status.startswith("2"))
            for media_type, media in ok.get("content", {}).items():
                if media_type == "application/json" and "$ref" in media.get("schema", {}):
                    assert has_example(media["schema"]), f"{where}: response has no example"
            if path.startswith("/v1/"):
                assert "401" in operation["responses"], where


def test_every_route_that_can_answer_409_documents_it(client: TestClient) -> None:
    # Found by schemathesis: an existing partner id, a run_name taken, a finished job were undocumented 409s.
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/v1/admin/partners", "post"),
        ("/v1/kb/documents", "post"),
        ("/v1/training/runs", "post"),
        ("/v1/jobs/{job_id}/cancel", "post"),
        ("/v1/training/runs/{job_id}/cancel", "post"),
        ("/v1/training/runs/{job_id}/evaluations", "post"),
    ]:
        assert "409" in paths[path][method]["responses"], f"{method.upper()} {path}"


def test_head_is_answered_wherever_get_is_with_the_same_headers_and_no_body(
    served_url: str, keys: Keys
) -> None:
    with httpx.Client(base_url=served_url, headers=keys.headers("acme")) as http:
        for path in ("/healthz", "/v1/conversations", "/v1/conversations/export", "/"):
            got, head = http.get(path), http.head(path)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
        assert http.head("/v1/conversations/nope").status_code == 404
        assert http.head("/v1/chat").status_code == 405  # POST only


def test_made_up_methods_share_one_metrics_label_so_clients_cannot_grow_the_registry(served_url: str) -> None:
    # uvicorn (h11) passes any token on as the method; each made-up one was a new series, without a key.
    with httpx.Client(base_url=served_url) as http:
        for number in range(20):
            assert http.request(f"XMADEUP{number}", "/healthz").status_code == 405
        text = http.get("/metrics").text
    assert "XMADEUP" not in text
    assert 'naa_http_requests_total{method="other",route="/healthz",status="405"} 20.0' in text


def test_the_api_images_app_logs_its_lines_with_time_level_and_source(tmp_path: Path) -> None:
    # The API image runs uvicorn --factory api.main:app_from_env: its own lines printed bare, INFO dropped.
    env = {name: value for name, value in os.environ.items() if not name.startswith("NAA_")}
    script = (
        "import logging; from api.main import app_from_env; app_from_env(); "
        "logging.getLogger('naa.example').info('model converted')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "NAA_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert re.search(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO naa.example: model converted$", result.stderr, re.M
    )
