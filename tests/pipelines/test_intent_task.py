"""Intent training through a real worker: a usable classifier, a registered version, failures recorded."""

import contextlib
from collections.abc import Callable
from pathlib import Path

import yaml

from naa.errors import ConflictError
from naa.intent import load_intent_classifier
from naa.storage import jobs
from naa.storage.model_versions import latest_model_version
from naa.storage.models import JobStatus, ModelKind
from naa.storage.partners import create_partner, get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery
from pipelines.submit import submit_intent_train

Wait = Callable[[NAACelery, str, str], tuple[list[JobStatus], float]]

EXAMPLES = {
    "refund": [
        "I want my money back",
        "refund my order please",
        "how do I get a refund",
        "return for a refund",
    ],
    "track_order": ["where is my parcel", "track my order", "when will my package arrive", "order status"],
    "reset_password": ["I forgot my password", "reset my password", "can't log in", "change my password"],
}


def train(app: NAACelery, tmp_path: Path, examples: dict[str, list[str]]) -> str:
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump(examples), encoding="utf-8")
    with session_scope(app.session_factory()) as session:
        with contextlib.suppress(ConflictError):  # the first test made it
            create_partner(
                session,
                "bank",
                "Bank",
                config_yaml="id: bank\nname: Bank\nintent:\n  epochs: 1\n  trainable_layers: 1\n",
            )
        return submit_intent_train(app, session, "bank", path).id


def test_training_job_produces_a_classifier_and_a_version(
    redis_app: NAACelery, tmp_path: Path, wait_for_job: Wait
) -> None:
    job_id = train(redis_app, tmp_path, EXAMPLES)
    seen, progress = wait_for_job(redis_app, "bank", job_id)
    assert seen[-1] is JobStatus.SUCCEEDED and progress == 1.0
    with session_scope(redis_app.session_factory()) as session:
        version = latest_model_version(session, "bank", ModelKind.INTENT)
        config = partner_config(get_partner(session, "bank"))
        result = jobs.get_job(session, "bank", job_id).result
    assert version.name == f"job-{job_id}" and version.metrics["intents"] == 3
    assert result is not None and result["model_dir"] == version.path
    classifier = load_intent_classifier(config.intent, Path(version.path))
    assert classifier.predict(["please refund my money"])[0].top[0].label == "refund"


def test_unusable_examples_fail_the_job_with_the_reason(
    redis_app: NAACelery, tmp_path: Path, wait_for_job: Wait
) -> None:
    job_id = train(redis_app, tmp_path, {**EXAMPLES, "cancel_order": ["only one example"]})
    assert wait_for_job(redis_app, "bank", job_id)[0][-1] is JobStatus.FAILED
    with session_scope(redis_app.session_factory()) as session:
        job = jobs.get_job(session, "bank", job_id)
    assert job.error is not None and "cancel_order" in job.error
