"""Starting and cancelling jobs from the API or the CLI.

A job row and its Celery message must agree: the message is sent only when the transaction that created
the row commits (a worker never looks for a row that is not there yet, and a rolled-back request sends
nothing). The Celery task id is the job id.
"""

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from naa.atomic_files import replace_file
from naa.config.plugins import PluginComponentConfig
from naa.config.validation import describe
from naa.errors import ConfigError, ConflictError, NotFoundError, ServiceUnavailableError
from naa.generation.config import DEFAULT_GENERATOR_MODEL, OpenAIGeneratorConfig
from naa.generation.model_files import PACKAGED_MODELS
from naa.rl.config import RLConfig
from naa.rl.evaluation import plan_evaluation
from naa.rl.rewards import RewardScorer
from naa.rl.run_state import MetricsLog
from naa.rl.tasks import Split, load_tasks
from naa.storage import documents, jobs
from naa.storage.model_versions import VERSION_PREFIX, check_name_free, get_model_version_by_name
from naa.storage.models import Job, JobKind, JobStatus, ModelKind
from naa.storage.partners import get_partner, partner_config
from naa.workspace import Workspace
from pipelines.celery_app import NAACelery

log = logging.getLogger(__name__)

_PENDING = "naa_after_commit"

UNSENT = "the job queue (broker) could not be reached, so the job was not started; try again"

KB_INDEX_TASK = "naa.kb.index"
INTENT_TRAIN_TASK = "naa.intent.train"
RL_TRAIN_TASK = "naa.rl.train"
RL_EVAL_TASK = "naa.rl.eval"

# Where runs' task files are copied, relative to the partner's folder (see _task_file).
TASK_SNAPSHOTS = "rl/task-snapshots"


def submit_kb_index(
    app: NAACelery,
    session: Session,
    partner_id: str,
    kb_name: str,
    paths: Sequence[Path],
    doc_ids: Sequence[str] | None = None,
) -> Job:
    """Queue indexing of files into a knowledge base; ``doc_ids``, if given, name each path's document.

    Register the documents first (``naa.storage.documents.add_documents``) in the same transaction when the
    API should list them as pending before the worker gets to them.
    """
    params = {
        "kb_name": kb_name,
        "paths": [str(p) for p in paths],
        "doc_ids": list(doc_ids) if doc_ids is not None else None,
    }

    def unsent(failed: Session) -> None:
        """An upload's documents can then be sent again, and its stored files, which the job would have
        deleted when it ended, go now; a build's sources are the partner's own files and stay."""
        if doc_ids is not None:
            documents.mark_failed(failed, partner_id, kb_name, list(doc_ids), UNSENT)
            app.workspace.remove_upload(partner_id, paths)

    return submit(app, session, partner_id, JobKind.KB_INDEX, KB_INDEX_TASK, params, unsent)


def submit_intent_train(
    app: NAACelery, session: Session, partner_id: str, examples: Path | None = None
) -> Job:
    """Queue training of a partner's intent model from ``examples`` or the examples file in its config."""
    params = {"examples": str(examples) if examples is not None else None}
    return submit(app, session, partner_id, JobKind.INTENT_TRAIN, INTENT_TRAIN_TASK, params)


def submit_rl_train(app: NAACelery, session: Session, partner_id: str, fields: Mapping[str, Any]) -> Job:
    """Queue an RL training run on the ``gpu`` queue from the ``RLConfig`` fields a partner sends.

    The server decides where files go: ``output_dir`` is the job's own folder (``Workspace.rl_run_dir``),
    ``tasks`` is a file inside the partner's folder, and ``model`` is a packaged model, one of the
    partner's generator versions (``version:<name>``), or by default the model serving the partner now,
    so a partner never names another partner's files. The config is validated here, so a bad field or a
    run over the server's size limit is the caller's error (``ConfigError`` naming it), not a failed job.
    """
    if "output_dir" in fields:
        raise ConfigError("output_dir: each run gets its own folder under the partner's; remove the field")
    partner_dir = app.workspace.partner_dir(partner_id)
    config = {
        **fields,
        "tasks": _task_file(partner_dir, fields),
        "model": _base_model(session, partner_id, fields),
    }
    try:
        rl_config = RLConfig.model_validate(config)
    except ValidationError as err:
        raise ConfigError(describe(err)) from err
    _check_size(app, rl_config.token_bound, "the run could sample and train on")
    # A reward plugin the worker would miss fails the request, not the job after its warm-up.
    RewardScorer(default=rl_config.reward).check(load_tasks(rl_config.tasks, split="train"))
    if "run_name" in fields:
        check_name_free(session, partner_id, ModelKind.GENERATOR, rl_config.run_name)
        _check_name_unclaimed(session, partner_id, rl_config.run_name)
    return submit(app, session, partner_id, JobKind.RL_TRAIN, RL_TRAIN_TASK, {"config": config})


def submit_rl_eval(
    app: NAACelery,
    session: Session,
    partner_id: str,
    run_id: str,
    *,
    n: int,
    ks: Sequence[int],
    split: Split,
    limit: int | None,
) -> Job:
    """Queue pass@k of a succeeded run's start and trained models on the ``gpu`` queue (``EVAL`` job).

    Checked here, so a bad request is the caller's error: the run must have succeeded (ConflictError), ks
    must not exceed n, the split must hold tasks and the sampling must fit the server's size limit
    (ConfigError).
    """
    run = jobs.get_job(session, partner_id, run_id, kind=JobKind.RL_TRAIN)
    if run.status is not JobStatus.SUCCEEDED:
        raise ConflictError(f"run {run_id!r} is {run.status.value}; evaluate it once it has succeeded")
    plan = plan_evaluation(app.workspace.rl_run_dir(partner_id, run_id), n=n, ks=ks, split=split, limit=limit)
    # Both the start model and the trained model sample n replies per task.
    _check_size(app, 2 * n * len(plan.tasks) * plan.config.max_new_tokens, "the evaluation could sample")
    params = {"run_id": run_id, "n": n, "ks": list(ks), "split": split, "limit": limit}
    return submit(app, session, partner_id, JobKind.EVAL, RL_EVAL_TASK, params)


def _check_name_unclaimed(session: Session, partner_id: str, name: str) -> None:
    """A run not finished yet will register ``name``: a second run of that name would fail when its worker
    starts it (or, started first, leave the other to fail), so it is refused now."""
    for job in jobs.unfinished_jobs(session, partner_id, kind=JobKind.RL_TRAIN):
        if job.params.get("config", {}).get("run_name") == name:
            raise ConflictError(
                f"run {job.id!r} ({job.status.value}) will register the version {name!r}; pick another "
                "run_name, or cancel that run"
            )


def _check_size(app: NAACelery, tokens: int, job_could: str) -> None:
    """One partner's job must not hold the shared GPU worker for days: refuse it before it is queued."""
    limit = app.naa_settings.rl_max_run_tokens
    if tokens > limit:
        raise ConfigError(
            f"{job_could} up to {tokens:,} completion tokens, over this server's limit "
            f"of {limit:,} (NAA_RL_MAX_RUN_TOKENS): lower steps, batch_prompts, group_size or "
            "max_new_tokens (an evaluation: n or limit)"
        )


def rl_run_metrics(
    workspace: Workspace, partner_id: str, job_id: str, *, since_step: int = 0, last: int = 100
) -> list[dict[str, Any]]:
    """The newest ``last`` (>= 1) step records after ``since_step``: what a polling client has not seen."""
    records = MetricsLog(workspace.rl_run_dir(partner_id, job_id) / "metrics.jsonl").read()
    return [record for record in records if record["step"] > since_step][-last:]


def _task_file(partner_dir: Path, fields: Mapping[str, Any]) -> str:
    """A copy of the task file the fields name, named by its content: the run trains, resumes and is
    evaluated on the tasks as they were when it was submitted, though the partner replaces the file later
    (``PUT /v1/training/tasks``) for another run. Runs of the same tasks share one copy."""
    tasks = fields.get("tasks")
    if not isinstance(tasks, str) or not tasks:
        raise ConfigError("tasks: give the task file's path inside the partner's folder, e.g. rl/tasks.jsonl")
    path = (partner_dir / tasks).resolve()
    if Path(tasks).is_absolute() or not path.is_relative_to(partner_dir.resolve()):
        raise ConfigError(f"tasks: {tasks!r} is outside the partner's folder; give a path relative to it")
    if not path.is_file():
        raise ConfigError(f"tasks: the partner's folder has no file {tasks!r}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"tasks: cannot read {tasks!r} as UTF-8 text") from err
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    copy = partner_dir / TASK_SNAPSHOTS / f"{digest}.jsonl"
    if not copy.is_file():
        replace_file(copy, [text])
    return str(copy.resolve())


def _base_model(session: Session, partner_id: str, fields: Mapping[str, Any]) -> str:
    model = fields.get("model")
    if model is None:
        generation = partner_config(get_partner(session, partner_id)).generation
        if isinstance(generation, OpenAIGeneratorConfig | PluginComponentConfig):
            return DEFAULT_GENERATOR_MODEL  # no local weights to start from
        return generation.model
    if not isinstance(model, str):
        raise ConfigError("model: give a packaged model name or version:<name>")
    if model.startswith(VERSION_PREFIX):
        name = model.removeprefix(VERSION_PREFIX)
        try:
            return get_model_version_by_name(session, partner_id, ModelKind.GENERATOR, name).path
        except NotFoundError as err:
            raise ConfigError(f"model: no generator version {name!r}; see GET /v1/model-versions") from err
    if model not in PACKAGED_MODELS:  # a path would name the server's files; anything else is no model here
        raise ConfigError(
            f"model: {model!r} is not a packaged model ({', '.join(PACKAGED_MODELS)}); give one of those, or "
            "version:<name> of one of your generator versions (GET /v1/model-versions)"
        )
    return model


def submit(
    app: NAACelery,
    session: Session,
    partner_id: str,
    kind: JobKind,
    task_name: str,
    params: dict[str, Any],
    on_unsent: Callable[[Session], None] | None = None,
) -> Job:
    """Create a queued job and send ``task_name(job_id, partner_id, **params)`` once the session commits.

    The generic form, for task areas added later (RL training on the ``gpu`` queue, evaluation). When the
    broker cannot be reached the commit raises ``ServiceUnavailableError`` (a 503) after recording the job
    failed, with ``on_unsent`` run in that same transaction for what else the job would have finished.
    """
    get_partner(session, partner_id)
    job = jobs.create_job(session, partner_id, kind, params)
    job.celery_task_id = job.id
    kwargs = {"job_id": job.id, "partner_id": partner_id, **params}
    engine = session.get_bind()

    def send() -> None:
        try:
            app.send_task(task_name, kwargs=kwargs, task_id=job.id)
        except Exception as err:
            _record_unsent(engine, partner_id, job.id, task_name, on_unsent)
            raise ServiceUnavailableError(UNSENT) from err

    _after_commit(session, send)
    session.flush()
    return job


def _record_unsent(
    engine: Engine | Connection,
    partner_id: str,
    job_id: str,
    task_name: str,
    on_unsent: Callable[[Session], None] | None,
) -> None:
    """The row is committed but its message is not in the broker: no worker will ever take it, so it is
    recorded failed (it stayed ``queued``, and an upload's documents ``pending``, for good)."""
    log.error("job %s (%s) could not be sent to the broker", job_id, task_name, exc_info=True)
    with Session(engine) as session, session.begin():
        jobs.fail_job(session, partner_id, job_id, UNSENT)
        if on_unsent is not None:
            on_unsent(session)


def _after_commit(session: Session, action: Callable[[], None]) -> None:
    session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    """Send every message of the commit, then raise the first failure: one broker error must not leave the
    next job of the same request (a build queues two) unsent and queued."""
    errors = []
    for action in session.info.pop(_PENDING, []):
        try:
            action()
        except ServiceUnavailableError as err:
            errors.append(err)
    if errors:
        raise errors[0]


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
