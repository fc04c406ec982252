"""RL training through a real Celery worker on the ``gpu`` queue (embedded SQLite broker, tiny model, CPU).

The reward plugin comes in the way a partner's would: an installed distribution whose ``naa.plugins``
entry point names a Plugin (written into a folder put on sys.path for the test).
"""

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from plugin_dists import install_dist

from naa.config.plugins import load_plugins
from naa.config.settings import NAASettings
from naa.rl.tasks import parse_task, save_tasks
from naa.storage import jobs
from naa.storage.model_versions import latest_model_version
from naa.storage.models import JobKind, JobStatus, ModelKind
from naa.storage.partners import create_partner
from naa.storage.session import session_scope
from pipelines.celery_app import GPU_QUEUE, make_celery
from pipelines.submit import submit
from pipelines.tasks.rl import RL_TRAIN_TASK
from pipelines.worker import requeue_cut_short, start_worker_process, stop_worker_processes

PLUGIN = """
from naa.config.plugins import Plugin


def vowel_share(task, reply):
    letters = [c for c in reply.lower() if c.isalpha()]
    return sum(c in "aeiou" for c in letters) / len(letters) if letters else 0.0


plugin = Plugin("rl-test-rewards", {"reward": {"vowel_share": lambda: vowel_share}})
"""


def _vanilla_run(tmp_path: Path, tiny_lm_dir: Path, **fields: Any) -> dict[str, Any]:
    """RLConfig fields of a tiny vanilla run: a second or so a step on CPU."""
    return {
        "model": str(tiny_lm_dir),
        "tasks": str(_tasks(tmp_path / "tasks.jsonl")),
        "variant": "vanilla",
        "group_size": 2,
        "batch_prompts": 1,
        "max_new_tokens": 4,
        "lora_rank": 2,
        **fields,
    }


@pytest.fixture
def reward_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site"
    install_dist(site, "naa_rl_test_rewards", {"rl-test": "naa_rl_test_rewards:plugin"})
    (site / "naa_rl_test_rewards.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(site))
    load_plugins.cache_clear()
    yield
    load_plugins.cache_clear()


def _tasks(path: Path) -> Path:
    questions = [
        "Can I return boots delivered 3 days ago?",
        "Send my refund to another card.",
        "Return a gift card?",
    ]
    save_tasks(
        [
            parse_task(
                {
                    "id": f"t{i}",
                    "type": "refusal",
                    "messages": [{"role": "user", "content": q}],
                    "hint": "30 days.",
                    "answer": i > 0,
                }
            )
            for i, q in enumerate(questions)
        ],
        path,
    )
    return path


def test_guide_run_on_a_gpu_queue_worker_writes_metrics_checkpoints_and_a_version(
    tmp_path: Path, tiny_lm_dir: Path, reward_plugin: None
) -> None:
    data_dir = tmp_path / "data"
    app = make_celery(NAASettings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'naa.db'}"))
    config = {
        "model": str(tiny_lm_dir),
        "tasks": str(_tasks(tmp_path / "tasks.jsonl")),
        "variant": "guide",
        "reward": "vowel_share",  # graded, never 1: every unhinted group fails and takes the hint path
        "group_size": 2,
        "batch_prompts": 2,
        "steps": 2,
        "max_new_tokens": 6,
        "lora_rank": 2,
        "checkpoint_every": 1,
    }
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = submit(app, session, "acme", JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})
    with start_worker(app, pool="solo", queues=["gpu"], perform_ping_check=False, shutdown_timeout=60):
        result = app.AsyncResult(job.id).get(timeout=300)
    run_dir = Path(result["run_dir"])
    assert run_dir == data_dir / "partners" / "acme" / "rl" / f"job-{job.id}"
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    for record in records:
        assert record["hint_fraction"] == 1.0 and record["guided_groups"] == 2
        assert isinstance(record["loss"], float) and record["guided_ratio_max"] is not None
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step-000001", "step-000002"]
    with session_scope(app.session_factory()) as session:
        done = jobs.get_job(session, "acme", job.id)
        version = latest_model_version(session, "acme", ModelKind.GENERATOR)
    assert (done.status, done.progress) == (JobStatus.SUCCEEDED, 1.0)
    assert version.name == f"rl-job-{job.id}" and Path(version.path, "config.json").is_file()
    assert version.metrics["step"] == 2


def test_a_cancel_during_the_warm_up_stops_it_and_writes_no_model(tmp_path: Path, tiny_lm_dir: Path) -> None:
    data_dir = tmp_path / "data"
    app = make_celery(NAASettings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'naa.db'}"))
    config = {
        "model": str(tiny_lm_dir),
        "tasks": str(_tasks(tmp_path / "tasks.jsonl")),
        "warmup_steps": 100_000,  # hours: only the cancel ends it
        "warmup_batch_size": 2,
    }
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = submit(app, session, "acme", JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})
    with start_worker(app, pool="solo", queues=["gpu"], perform_ping_check=False, shutdown_timeout=60):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(app.session_factory()) as session:
                message = jobs.get_job(session, "acme", job.id).message
            if message.startswith("warm-up step"):
                break
            time.sleep(0.05)
        assert message.startswith("warm-up step") and "/100000: loss" in message
        with session_scope(app.session_factory()) as session:
            jobs.cancel_job(session, "acme", job.id)
        assert app.AsyncResult(job.id).get(timeout=60) == {"cancelled": True}
    run_dir = data_dir / "partners" / "acme" / "rl" / f"job-{job.id}"
    assert not run_dir.exists()  # the warm-up writes its model (and the run folder) only when it ends
    with session_scope(app.session_factory()) as session:
        assert jobs.get_job(session, "acme", job.id).status is JobStatus.CANCELLED


def test_a_run_whose_name_another_run_took_while_it_was_queued_fails_before_training(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    # Two runs queued with one run_name both trained; the second failed only at registration, at its end.
    data_dir = tmp_path / "data"
    app = make_celery(NAASettings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'naa.db'}"))
    config = _vanilla_run(tmp_path, tiny_lm_dir, steps=1, run_name="shared-name")
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        first = submit(app, session, "acme", JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})
        second = submit(app, session, "acme", JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})
    with start_worker(app, pool="solo", queues=["gpu"], perform_ping_check=False, shutdown_timeout=60):
        assert app.AsyncResult(first.id).get(timeout=300)["model_version"] == "shared-name"
        with pytest.raises(Exception, match="'shared-name' already exists"):
            app.AsyncResult(second.id).get(timeout=120)
    with session_scope(app.session_factory()) as session:
        failed = jobs.get_job(session, "acme", second.id)
        assert failed.status is JobStatus.FAILED and "pick another name" in (failed.error or "")
    assert not (data_dir / "partners" / "acme" / "rl" / f"job-{second.id}" / "metrics.jsonl").exists()


def test_a_run_whose_embedded_worker_was_killed_runs_on_at_the_next_start(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    """`naa serve` stopped past its grace period kills its workers: on the SQLite broker the run's message
    stayed hidden for good, so the run showed `running` forever and never went on."""
    settings = NAASettings(data_dir=tmp_path / "data")
    app = make_celery(settings)
    config = _vanilla_run(tmp_path, tiny_lm_dir, steps=20, checkpoint_every=1)
    with session_scope(app.session_factory()) as session:
        create_partner(session, "acme", "Acme")
        job = submit(app, session, "acme", JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})
    metrics = settings.data_dir / "partners" / "acme" / "rl" / f"job-{job.id}" / "metrics.jsonl"
    first = start_worker_process(settings, queues=(GPU_QUEUE,))
    try:
        deadline = time.monotonic() + 120
        while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 2):
            assert time.monotonic() < deadline and first.poll() is None, "the run did not start"
            time.sleep(0.2)
    finally:
        first.kill()
        first.wait()
    assert requeue_cut_short(settings) == 1
    second = start_worker_process(settings, queues=(GPU_QUEUE,))
    try:
        assert app.AsyncResult(job.id).get(timeout=300)["model_version"]
    finally:
        stop_worker_processes([second])
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == list(range(1, 21))
    assert requeue_cut_short(settings) == 0  # finished jobs' messages stay hidden
