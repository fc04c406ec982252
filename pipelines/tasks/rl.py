"""RL training on the ``gpu`` queue: one Guide-GRPO (or baseline) run, registered as a generator version;
and the pass@k evaluation of a finished run, whose figures join that version's metrics.

The run folder is fixed by the job id, so a redelivered task (``acks_late``, a worker lost) resumes the
same run from its last checkpoint instead of starting over; a run that already finished is only
registered. A cancel is seen after the current step: that step is checkpointed, then the job ends.
"""

from typing import Any

from celery import Task, shared_task
from pydantic import ValidationError

from naa.errors import ConfigError
from naa.rl.config import RLConfig
from naa.rl.evaluation import evaluate_run
from naa.rl.model_version import MANIFEST_NAME, read_manifest
from naa.rl.tasks import Split
from naa.rl.trainer import train
from naa.storage.model_versions import add_model_version_metrics, check_name_free, register_job_result
from naa.storage.models import ModelKind
from naa.storage.session import session_scope
from pipelines.celery_app import naa_app
from pipelines.tracking import JobCancelled, JobProgress, run_job

RL_TRAIN_TASK = "naa.rl.train"
RL_EVAL_TASK = "naa.rl.eval"


def _step_message(record: dict[str, Any]) -> str:
    loss = "-" if record["loss"] is None else f"{record['loss']:+.4f}"
    return (
        f"step {record['step']}: reward {record['reward_mean']}, hints {record['hint_fraction']}, "
        f"filtered {record['filtered_fraction']}, loss {loss}, {record['tokens_per_s']:.0f} tok/s"
    )


@shared_task(bind=True, name=RL_TRAIN_TASK)
def train_rl(self: Task, job_id: str, partner_id: str, config: dict[str, Any]) -> dict[str, Any]:
    """Train with ``config`` (the fields of ``RLConfig``, as JSON) and register the result.

    Unless the config sets them, ``output_dir`` is ``partners/<partner>/rl/job-<job_id>`` under the data dir
    and ``run_name`` is ``rl-job-<job_id>``.
    """
    app = naa_app(self)

    def work(progress: JobProgress) -> dict[str, Any]:
        defaults = {
            "output_dir": str(app.workspace.rl_run_dir(partner_id, job_id)),
            "run_name": f"rl-job-{job_id}",
        }
        try:
            rl_config = RLConfig.model_validate({**defaults, **config})
        except ValidationError as err:
            raise ConfigError(f"RL config of job {job_id} is invalid: {err}") from err
        if not (rl_config.output_dir / MANIFEST_NAME).is_file():
            # Runs queued together may share a run_name: the one that finished first took it, so this
            # one fails now, not at registration after all its training.
            with session_scope(app.session_factory()) as session:
                check_name_free(session, partner_id, ModelKind.GENERATOR, rl_config.run_name)
            cancelled = False

            def on_step(record: dict[str, Any]) -> None:
                nonlocal cancelled
                progress(record["step"] / rl_config.steps, _step_message(record), cancellable=False)
                cancelled = progress.cancelled()  # the trainer checkpoints this step, then stops

            def on_warmup_step(step: int, loss: float) -> None:
                # A cancel aborts the warm-up at once (JobCancelled): it writes its model only when done.
                progress(0.0, f"warm-up step {step}/{rl_config.warmup_steps}: loss {loss:.4f}")

            result = train(
                rl_config,
                models_dir=app.workspace.models_dir,
                progress=on_step,
                should_stop=lambda: cancelled,
                warmup_progress=on_warmup_step,
            )
            if result.stopped:
                raise JobCancelled(job_id)
        manifest = read_manifest(rl_config.output_dir)
        with session_scope(app.session_factory()) as session:
            register_job_result(
                session, partner_id, ModelKind.GENERATOR, manifest.name, manifest.path, manifest.metrics
            )
        return {
            "run_dir": str(rl_config.output_dir),
            "model_path": str(manifest.path),
            "model_version": manifest.name,
            "steps": manifest.steps,
            "metrics": manifest.metrics,
        }

    return run_job(self, partner_id, job_id, work)


@shared_task(bind=True, name=RL_EVAL_TASK)
def evaluate_rl(
    self: Task,
    job_id: str,
    partner_id: str,
    run_id: str,
    n: int,
    ks: list[int],
    split: Split,
    limit: int | None,
) -> dict[str, Any]:
    """pass@k of run ``run_id``'s start and trained models (``naa rl eval``); the run folder gets eval.json
    and eval.png, the job the summary, and the run's model version the after-training pass@k."""
    app = naa_app(self)

    def work(progress: JobProgress) -> dict[str, Any]:
        report = evaluate_run(
            app.workspace.rl_run_dir(partner_id, run_id),
            n=n,
            ks=ks,
            split=split,
            limit=limit,
            models_dir=app.workspace.models_dir,
            progress=progress.stage(0.0, 1.0, "pass@k"),
        )
        manifest = read_manifest(app.workspace.rl_run_dir(partner_id, run_id))
        with session_scope(app.session_factory()) as session:
            add_model_version_metrics(
                session,
                partner_id,
                ModelKind.GENERATOR,
                manifest.name,
                {f"{split}_pass@{k}": manifest.metrics[f"{split}_pass@{k}"] for k in ks},
            )
        summary = {key: report[key] for key in ("split", "n", "ks", "comparison")}
        for model in ("before", "after"):
            summary[model] = {key: report[model][key] for key in ("pass_at", "reward_mean")}
        return {"run_id": run_id, "model_version": manifest.name, **summary}

    return run_job(self, partner_id, job_id, work)
