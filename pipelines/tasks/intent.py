"""Intent training: a partner's classifier trained from its labelled examples, registered as a version."""

import dataclasses
from pathlib import Path
from typing import Any

from celery import Task, shared_task

from naa.builder import intent_examples
from naa.intent import read_examples, train_intent_classifier
from naa.storage.model_versions import register_job_result
from naa.storage.models import ModelKind
from naa.storage.partners import get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import naa_app
from pipelines.tracking import JobProgress, run_job


@shared_task(bind=True, name="naa.intent.train")
def train_intent(self: Task, job_id: str, partner_id: str, examples: str | None = None) -> dict[str, Any]:
    """Train into the partner's intent folder from ``examples``, or the examples file its config names.

    The classifier replaces the previous one only when training finishes, so a failed or cancelled run
    leaves the assistant answering with the old model.
    """
    app = naa_app(self)

    def work(progress: JobProgress) -> dict[str, Any]:
        factory = app.session_factory()
        with session_scope(factory) as session:
            config = partner_config(get_partner(session, partner_id))
        intent = config.builtin_intent()
        path = Path(examples) if examples is not None else intent_examples(config)
        progress(0.0, f"reading {path.name}")
        labelled = read_examples(path)
        out_dir = app.workspace.intent_dir(partner_id)
        report = train_intent_classifier(
            intent, labelled, out_dir, progress=progress.stage(0.02, 0.98, "training")
        )
        metrics = {**dataclasses.asdict(report), "model_dir": str(report.model_dir)}
        with session_scope(factory) as session:
            register_job_result(session, partner_id, ModelKind.INTENT, f"job-{job_id}", out_dir, metrics)
        return metrics

    return run_job(self, partner_id, job_id, work)
