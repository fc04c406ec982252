"""Training through the API: a tiny RL run on the real worker, its metrics, the version it registers, and
switching the partner's generator to that version with no restart, on every API replica; cancelling;
isolation; bad configs."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Keys, finished_job
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import String

from api.main import create_app
from api.routers.training import TASK_FILE
from naa.assistant import Assistant
from naa.config.settings import NAASettings
from naa.rl.config import RLConfig
from naa.rl.tasks import load_tasks, parse_task, save_tasks
from naa.storage.models import ModelVersion

# Small enough for two steps in seconds on CPU; vanilla keeps every group, so every step trains.
TINY_RUN = {
    "tasks": "rl/tasks.jsonl",
    "variant": "vanilla",
    "group_size": 2,
    "batch_prompts": 1,
    "steps": 2,
    "max_new_tokens": 4,
    "lora_rank": 2,
    "checkpoint_every": 1,
}


@pytest.fixture(scope="module")
def task_file(data_dir: Path) -> Path:
    """A task file in acme's folder, where a partner's run may read one."""
    path = data_dir / "partners" / "acme" / "rl" / "tasks.jsonl"
    questions = ["Can I roam in Spain for free?", "Refund a roaming charge from last year?"]
    tasks = [
        parse_task(
            {
                "id": f"t{i}",
                "type": "refusal",
                "messages": [{"role": "user", "content": q}],
                "hint": "Roaming in the EU costs nothing extra.",
                "answer": i > 0,
            }
        )
        for i, q in enumerate(questions)
    ]
    save_tasks(tasks, path)
    return path


def _run(client: TestClient, keys: Keys, job_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/training/runs/{job_id}", params=params, headers=keys.headers("acme"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _finished(client: TestClient, keys: Keys, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run = _run(client, keys, job_id)
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {job_id} did not finish: {run}")


def _start(client: TestClient, keys: Keys, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/training/runs", json={**TINY_RUN, **fields}, headers=keys.headers("acme"))
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def _cached_assistant(app: FastAPI, partner_id: str) -> Assistant:
    assistant = app.state.naa.assistants.built(partner_id)
    assert assistant is not None, f"no assistant was built for {partner_id}"
    return assistant


@pytest.fixture(scope="module")
def replica(settings: NAASettings) -> Iterator[tuple[FastAPI, TestClient]]:
    """A second API process's app on the same database and data dir, as behind a load balancer."""
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


@pytest.fixture
def generator_reset(client: TestClient, keys: Keys) -> Iterator[None]:
    """Other tests expect acme's config model: serve it again, even when the test fails half-way."""
    yield
    client.put("/v1/generator", json={"model_version": None}, headers=keys.headers("acme"))


def test_a_run_trains_on_the_worker_registers_a_version_that_serves_without_restart(
    app: FastAPI,
    client: TestClient,
    keys: Keys,
    worker: None,
    task_file: Path,
    tiny_lm_dir: Path,
    generator_reset: None,
    replica: tuple[FastAPI, TestClient],
) -> None:
    acme, globex = keys.headers("acme"), keys.headers("globex")
    replica_app, replica_client = replica
    started = _start(client, keys)
    assert started["status"] == "queued" and started["config"]["model"] == str(tiny_lm_dir)

    run = _finished(client, keys, started["id"])
    assert run["status"] == "succeeded", run["error"]
    assert [record["step"] for record in run["metrics"]] == [1, 2]
    assert all(isinstance(record["loss"], float) for record in run["metrics"])
    assert [r["step"] for r in _run(client, keys, run["id"], since_step=1)["metrics"]] == [2]
    listed = client.get("/v1/training/runs", headers=acme).json()["runs"]
    assert [r["metrics"] for r in listed if r["id"] == run["id"]] == [[run["metrics"][-1]]]

    versions = client.get("/v1/model-versions", headers=acme).json()["versions"]
    version = next(v for v in versions if v["name"] == run["model_version"])
    assert version["kind"] == "generator" and version["metrics"]["step"] == 2
    assert client.get(f"/v1/model-versions/{version['id']}", headers=acme).json() == version

    # The other partner sees none of it and cannot serve it.
    assert client.get(f"/v1/training/runs/{run['id']}", headers=globex).status_code == 404
    assert client.get(f"/v1/model-versions/{version['id']}", headers=globex).status_code == 404
    for ref in (version["id"], version["name"]):
        stolen = client.put("/v1/generator", json={"model_version": ref}, headers=globex)
        assert (stolen.status_code, stolen.json()["code"]) == (404, "not_found")

    assert (
        client.post("/v1/chat", json={"message": "roaming charges in France"}, headers=acme).status_code
        == 200
    )
    assert _cached_assistant(app, "acme").config.generation.model == str(tiny_lm_dir)
    assert replica_client.post("/v1/chat", json={"message": "roaming"}, headers=acme).status_code == 200
    assert _cached_assistant(replica_app, "acme").config.generation.model == str(tiny_lm_dir)
    switched = client.put("/v1/generator", json={"model_version": version["name"]}, headers=acme)
    assert switched.status_code == 200, switched.text
    model = switched.json()["model"]
    assert switched.json()["version"]["id"] == version["id"]
    assert Path(model).is_relative_to(Path(run["config"]["tasks"]).parents[1]) and model != str(tiny_lm_dir)
    assert client.get("/v1/generator", headers=acme).json() == switched.json()

    reply = client.post("/v1/chat", json={"message": "roaming charges in France"}, headers=acme)
    assert reply.status_code == 200, reply.text
    assert _cached_assistant(app, "acme").config.generation.model == model
    # The replica that did not handle the switch serves the new version at its next request too.
    assert replica_client.post("/v1/chat", json={"message": "roaming"}, headers=acme).status_code == 200
    assert _cached_assistant(replica_app, "acme").config.generation.model == model
    assert client.post("/v1/chat", json={"message": "transfer fees"}, headers=globex).status_code == 200
    assert _cached_assistant(app, "globex").config.generation.model == str(tiny_lm_dir)

    back = client.put("/v1/generator", json={"model_version": None}, headers=acme).json()
    assert back == {"version": None, "model": str(tiny_lm_dir)}
    assert (
        client.post("/v1/chat", json={"message": "what does roaming cost"}, headers=acme).status_code == 200
    )
    assert _cached_assistant(app, "acme").config.generation.model == str(tiny_lm_dir)


def test_a_finished_run_is_evaluated_with_pass_at_k_and_its_version_gets_the_figures(
    client: TestClient, keys: Keys, worker: None, task_file: Path
) -> None:
    acme = keys.headers("acme")
    original = task_file.read_text()
    started = _start(client, keys)
    # The partner replaces its task file for another run: this run trains and is evaluated on its own.
    replaced = client.put("/v1/training/tasks", files=_upload(_HELDOUT_TASKS), headers=acme)
    assert replaced.status_code == 200, replaced.text
    try:
        run = _finished(client, keys, started["id"])
    finally:
        task_file.write_text(original)
    assert run["status"] == "succeeded", run["error"]
    assert Path(run["config"]["tasks"]).read_text() == original
    evaluations = f"/v1/training/runs/{run['id']}/evaluations"

    no_heldout = client.post(evaluations, json={}, headers=acme)  # the task file has train tasks only
    assert (no_heldout.status_code, no_heldout.json()["code"]) == (422, "invalid_config")
    assert "holds no heldout tasks" in no_heldout.json()["message"]
    too_big_k = client.post(evaluations, json={"n": 2, "k": [4], "split": "train"}, headers=acme)
    assert too_big_k.status_code == 422 and "n >= k" in too_big_k.json()["message"]
    assert client.post(evaluations, json={"split": "test"}, headers=acme).status_code == 422
    # both models x 256 replies x 2 tasks x 4 tokens = 4,096 over the 2,000 set
    too_many = client.post(evaluations, json={"n": 256, "split": "train"}, headers=acme)
    assert (too_many.status_code, too_many.json()["code"]) == (422, "invalid_config")
    assert too_many.json()["message"].startswith("the evaluation could sample up to 4,096")
    assert (
        client.post(evaluations, json={"split": "train"}, headers=keys.headers("globex")).status_code == 404
    )

    queued = client.post(evaluations, json={"n": 2, "split": "train"}, headers=acme)
    assert queued.status_code == 202, queued.text
    assert queued.json()["kind"] == "eval"
    job = finished_job(client, keys, queued.json()["id"], timeout_s=240)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["run_id"] == run["id"] and (result["split"], result["n"], result["ks"]) == (
        "train",
        2,
        [1, 2],
    )
    for model in ("before", "after"):
        assert set(result[model]["pass_at"]) == {"1", "2"}
        assert 0.0 <= result[model]["pass_at"]["1"] <= result[model]["pass_at"]["2"] <= 1.0
    assert result["comparison"]["tasks"] == 2
    versions = client.get("/v1/model-versions", headers=acme).json()["versions"]
    (version,) = [v for v in versions if v["name"] == run["model_version"]]
    assert version["metrics"]["train_pass@2"] == result["after"]["pass_at"]["2"]
    assert version["metrics"]["step"] == 2  # the training figures stay


def test_a_cancelled_run_stops_and_cannot_be_cancelled_twice(
    app: FastAPI, client: TestClient, keys: Keys, worker: None, task_file: Path
) -> None:
    started = _start(client, keys, steps=50)
    cancelled = client.post(f"/v1/training/runs/{started['id']}/cancel", headers=keys.headers("acme"))
    # Queued, it is cancelled at once and the worker skips it; started already, it is cancelling until it
    # stops after its current checkpointed step.
    assert (cancelled.status_code, cancelled.json()["status"]) in ((200, "cancelled"), (200, "cancelling"))
    result = app.state.naa.jobs_app.AsyncResult(started["id"])
    deadline = time.monotonic() + 120
    while not result.ready() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert result.ready()
    run = _run(client, keys, started["id"])
    assert run["status"] == "cancelled" and len(run["metrics"]) < 50 and run["model_version"] is None
    again = client.post(f"/v1/training/runs/{started['id']}/cancel", headers=keys.headers("acme"))
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    other = client.post(f"/v1/training/runs/{started['id']}/cancel", headers=keys.headers("globex"))
    assert other.status_code == 404
    unfinished = client.post(
        f"/v1/training/runs/{started['id']}/evaluations",
        json={"split": "train"},
        headers=keys.headers("acme"),
    )
    assert (unfinished.status_code, unfinished.json()["code"]) == (409, "conflict")


def test_a_run_name_a_run_not_finished_will_register_is_refused(
    app: FastAPI, client: TestClient, keys: Keys, worker: None, task_file: Path
) -> None:
    # Both were accepted: the second trained to its end, then failed to register the name.
    started = _start(client, keys, steps=50, run_name="claimed-name")
    again = client.post(
        "/v1/training/runs", json={**TINY_RUN, "run_name": "claimed-name"}, headers=keys.headers("acme")
    )
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert f"run {started['id']!r}" in again.json()["message"]
    client.post(f"/v1/training/runs/{started['id']}/cancel", headers=keys.headers("acme"))
    app.state.naa.jobs_app.AsyncResult(started["id"]).get(timeout=120, propagate=False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"group_size": 1}, "group_size: Input should be greater than or equal to 2"),
        ({"variant": "ppo"}, "variant: Input should be 'vanilla', 'filtered' or 'guide'"),
        (
            {"variant": "vanilla", "gamma_value": 2.0},
            "Value error, only variant guide uses gamma_value",
        ),
        ({"output_dir": "/tmp/x"}, "output_dir: each run gets its own folder"),
        ({"tasks": "../globex/rl/tasks.jsonl"}, "tasks: '../globex/rl/tasks.jsonl' is outside"),
        ({"tasks": "rl/missing.jsonl"}, "tasks: the partner's folder has no file"),
        ({"model": "version:nope"}, "model: no generator version 'nope'"),
        # neither a packaged model nor a version: it was queued, then the worker failed (or tried the hub)
        ({"model": "no-such-packaged-model"}, "model: 'no-such-packaged-model' is not a packaged model"),
        ({"model": "org/some-model"}, "model: 'org/some-model' is not a packaged model"),
        ({"model": "../globex"}, "model: '../globex' is not a packaged model"),
        ({"run_name": "a/b"}, "run_name: Value error, 'a/b' is not a version name"),
        ({"run_name": "x" * 1000}, "run_name: String should have at most 200 characters"),
        # queued, then the worker failed after the warm-up
        ({"reward": "no_such_reward"}, "no reward plugin named 'no_such_reward'"),
        # 2 steps x 1 prompt x 2 completions x 300 tokens x (1 draw + 2 epochs) = 3,600 over the 2,000 set
        (
            {"max_new_tokens": 300, "ppo_epochs": 2},
            "the run could sample and train on up to 3,600 completion tokens, over this server's limit of "
            "2,000 (NAA_RL_MAX_RUN_TOKENS)",
        ),
    ],
)
def test_a_bad_run_config_is_refused_with_the_field_before_anything_is_queued(
    client: TestClient, keys: Keys, task_file: Path, fields: dict[str, Any], message: str
) -> None:
    before = len(client.get("/v1/training/runs", headers=keys.headers("acme")).json()["runs"])
    response = client.post("/v1/training/runs", json={**TINY_RUN, **fields}, headers=keys.headers("acme"))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_config")
    assert response.json()["message"].startswith(message), response.json()
    assert len(client.get("/v1/training/runs", headers=keys.headers("acme")).json()["runs"]) == before


def test_the_longest_run_name_fits_the_column_of_the_version_the_run_registers() -> None:
    column = ModelVersion.__table__.c.name.type
    assert isinstance(column, String) and column.length is not None
    assert RLConfig(tasks=Path("tasks.jsonl"), run_name="a" * column.length).run_name
    with pytest.raises(ValidationError, match="at most"):
        RLConfig(tasks=Path("tasks.jsonl"), run_name="a" * (column.length + 1))


def test_serving_an_unknown_version_is_a_404_and_a_run_needs_json_fields(
    client: TestClient, keys: Keys
) -> None:
    unknown = client.put("/v1/generator", json={"model_version": "nope"}, headers=keys.headers("acme"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    missing = client.put("/v1/generator", json={}, headers=keys.headers("acme"))
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_request")
    not_a_mapping = client.post("/v1/training/runs", json=[1, 2], headers=keys.headers("acme"))
    assert not_a_mapping.status_code == 422
    assert client.get("/v1/training/runs/nope", headers=keys.headers("acme")).status_code == 404


def test_a_partner_generates_its_task_file_and_a_run_accepts_it(
    client: TestClient, keys: Keys, data_dir: Path
) -> None:
    # A partner on the API had no way to get a task file into its folder.
    globex = keys.headers("globex")
    made = client.post("/v1/training/tasks", json={"per_template": 6, "seed": 1}, headers=globex)
    assert made.status_code == 201, made.text
    assert made.json()["tasks"] == "rl/tasks.jsonl"
    assert set(made.json()["counts"]) == {"intent/train", "intent/heldout"}
    written = load_tasks(data_dir / "partners" / "globex" / "rl" / "tasks.jsonl")
    assert len(written) == sum(made.json()["counts"].values())
    assert client.post("/v1/training/tasks", json={"per_template": 1}, headers=globex).status_code == 422

    # Citation tasks over the passages globex's own knowledge base finds for its customers' questions.
    questions = [
        {"question": "My Globex card was stolen, how do I freeze it?", "doc_ids": ["cards.md"]},
        {"question": "How long does an international wire transfer take?", "doc_ids": ["transfers.md"]},
    ]
    body = {"per_template": 6, "questions": questions}
    with_citations = client.post("/v1/training/tasks", json=body, headers=globex)
    assert with_citations.status_code == 201, with_citations.text
    assert with_citations.json()["counts"] == {
        **made.json()["counts"],
        "citation/heldout": 1,
        "citation/train": 1,
    }
    citations = [t for t in load_tasks(data_dir / "partners" / "globex" / TASK_FILE) if t.type == "citation"]
    assert {t.messages[-1].content: t.answer for t in citations} == {
        q["question"]: q["doc_ids"][0] for q in questions
    }
    assert all({p.doc_id for p in t.context} == {"cards.md", "transfers.md"} for t in citations)
    typo = client.post(
        "/v1/training/tasks", json={"questions": [{**questions[0], "doc_ids": ["card.md"]}]}, headers=globex
    )
    assert (typo.status_code, typo.json()["code"]) == (422, "invalid_config")
    assert "the knowledge base holds no document card.md" in typo.json()["message"]


_HELDOUT_TASKS = [
    {
        "id": "late-fee",
        "type": "computation",
        "split": "heldout",
        "messages": [{"role": "user", "content": "I paid 10 days late on a 50.00 bill. What is the fee?"}],
        "hint": "fee = 2% of the bill per started week late: 2 weeks x 2% x 50.00",
        "answer": 2.0,
        "unit": "USD",
    },
    {
        "id": "cancel-action",
        "type": "action",
        "messages": [{"role": "user", "content": "Cancel order 8812 please."}],
        "hint": "Orders not shipped yet can be cancelled: action cancel_order with the order id.",
        "answer": {"action": "cancel_order", "slots": {"order_id": "8812"}},
    },
]


def _upload(lines: list[Any], name: str = "my-tasks.jsonl") -> dict[str, tuple[str, bytes]]:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return {"file": (name, text.encode())}


def test_a_partner_uploads_its_own_task_file_checked_line_by_line(
    client: TestClient, keys: Keys, data_dir: Path
) -> None:
    globex = keys.headers("globex")
    (data_dir / "partners" / "globex" / TASK_FILE).unlink(missing_ok=True)
    none_yet = client.get("/v1/training/tasks", headers=globex)
    assert (none_yet.status_code, none_yet.json()["code"]) == (404, "not_found")

    uploaded = client.put("/v1/training/tasks", files=_upload(_HELDOUT_TASKS), headers=globex)
    assert uploaded.status_code == 200, uploaded.text
    counts = {"action/train": 1, "computation/heldout": 1}
    assert uploaded.json() == {"tasks": TASK_FILE, "counts": counts}
    assert client.get("/v1/training/tasks", headers=globex).json() == uploaded.json()
    written = load_tasks(data_dir / "partners" / "globex" / TASK_FILE)
    assert written == [parse_task(task) for task in _HELDOUT_TASKS]

    bad_line = [_HELDOUT_TASKS[0], {**_HELDOUT_TASKS[1], "answer": {"slots": {}}}]
    not_json = [_HELDOUT_TASKS[0], "", "{oops"]
    repeated = [_HELDOUT_TASKS[0], _HELDOUT_TASKS[0]]
    no_plugin = [{**_HELDOUT_TASKS[0], "reward": "no_such_reward"}]
    for files, message in [
        (_upload(bad_line), "my-tasks.jsonl:2 is not a valid task: answer.action: Field required"),
        (_upload(not_json), "my-tasks.jsonl:3 is not JSON: Expecting property name"),
        # It was a 500: the JSON parser's recursion error went unhandled.
        (_upload([_HELDOUT_TASKS[0], "[" * 100_000]), "my-tasks.jsonl:2 is not a task: its JSON nests"),
        (_upload(repeated), "my-tasks.jsonl:2 repeats task id 'late-fee'"),
        (_upload(no_plugin), "no reward plugin named 'no_such_reward'"),
        (_upload(["", " "]), "my-tasks.jsonl holds no tasks"),
        ({"file": ("t.jsonl", "caf\u00e9".encode("latin-1"))}, "t.jsonl: save the task file as UTF-8 text"),
    ]:
        refused = client.put("/v1/training/tasks", files=files, headers=globex)
        assert refused.status_code == 422, refused.text
        assert refused.json()["message"].startswith(message), refused.json()
    # Nothing refused replaced the file.
    assert client.get("/v1/training/tasks", headers=globex).json()["counts"] == counts
    with_bom = {"file": ("bom.jsonl", b"\xef\xbb\xbf" + json.dumps(_HELDOUT_TASKS[1]).encode())}
    assert client.put("/v1/training/tasks", files=with_bom, headers=globex).json()["counts"] == {
        "action/train": 1
    }
