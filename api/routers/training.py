"""RL training runs (Celery jobs on the ``gpu`` queue), the model versions they register, and switching the
generator serving the partner to one of them, with no restart."""

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status

from api.auth import KeyFirstRoute
from api.deps import JobsAppDep, PartnerConfigDep, PartnerDep, SessionDep, StateDep, get_assistant
from api.errors import ERROR_RESPONSES, FINISHED_JOB, ErrorBody
from api.schemas.jobs import JobPublic
from api.schemas.training import (
    GeneratorPublic,
    GeneratorUpdate,
    ModelVersionPublic,
    ModelVersionsPublic,
    RunEvaluationCreate,
    TaskFileCreate,
    TaskFilePublic,
    TrainingRunCreate,
    TrainingRunPublic,
    TrainingRunsPublic,
)
from naa.errors import InputError, NotFoundError
from naa.rl.rewards import RewardScorer
from naa.rl.task_generator import TaskSources, generate_tasks, retrieved_passages
from naa.rl.tasks import load_tasks, parse_tasks, save_tasks, task_counts
from naa.storage import jobs, model_versions, partners
from naa.storage.models import JobKind
from pipelines.submit import rl_run_metrics, submit_rl_eval, submit_rl_train

router = APIRouter(route_class=KeyFirstRoute, prefix="/v1", tags=["training"], responses=ERROR_RESPONSES)


# Where a partner's generated tasks go, relative to its folder; POST /v1/training/runs names it as `tasks`.
TASK_FILE = "rl/tasks.jsonl"


@router.post(
    "/training/tasks",
    status_code=status.HTTP_201_CREATED,
    summary="Generate the partner's RL task file",
    responses={
        422: {
            "model": ErrorBody,
            "description": "The partner has no intent examples file and no questions were given, or a "
            "question names a document the knowledge base does not hold.",
        }
    },
)
def create_task_file(
    body: TaskFileCreate, caller: PartnerDep, config: PartnerConfigDep, session: SessionDep, state: StateDep
) -> TaskFilePublic:
    """Intent tasks from the partner's intent examples, and citation tasks from the `questions` given (as
    `naa rl tasks generate --partner [--questions]`), written to its folder (replacing an earlier file; PUT
    uploads one instead): start a run with `{"tasks": "rl/tasks.jsonl", ...}`."""
    questions = body.questions or []
    search = None
    if questions:
        search = retrieved_passages(get_assistant(caller, state).retriever, questions, "questions")
    tasks = generate_tasks(
        TaskSources.partner(config, questions=questions, search=search),
        per_template=body.per_template,
        seed=body.seed,
        heldout_fraction=body.heldout,
    )
    save_tasks(tasks, state.workspace.partner_dir(caller.partner_id) / TASK_FILE)
    return TaskFilePublic(tasks=TASK_FILE, counts=task_counts(tasks))


@router.put(
    "/training/tasks",
    summary="Upload the partner's RL task file",
    responses={
        422: {
            "model": ErrorBody,
            "description": "A line is not a valid task (named by line), ids repeat, or a reward plugin it "
            "names is not installed.",
        }
    },
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": {"file": "tasks.jsonl"}}}}},
)
def upload_task_file(
    file: Annotated[
        UploadFile,
        File(
            description="JSONL, one task per line, as `naa rl tasks generate` writes (`naa rl tasks check`)."
        ),
    ],
    caller: PartnerDep,
    state: StateDep,
) -> TaskFilePublic:
    """Tasks written by hand or by the partner's own tools, of any type, scored by the built-in verifiers or
    the reward plugins they name. Every line is checked before the file replaces the partner's task file:
    a bad file changes nothing, and runs already started keep the tasks they were started with."""
    name = file.filename or "tasks.jsonl"
    try:
        text = file.file.read().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: save the task file as UTF-8 text") from err
    tasks = parse_tasks(text, name)
    if not tasks:
        raise InputError(f"{name} holds no tasks: one JSON task per line")
    RewardScorer().check(tasks)
    save_tasks(tasks, state.workspace.partner_dir(caller.partner_id) / TASK_FILE)
    return TaskFilePublic(tasks=TASK_FILE, counts=task_counts(tasks))


@router.get("/training/tasks", summary="Describe the partner's RL task file")
def get_task_file(caller: PartnerDep, state: StateDep) -> TaskFilePublic:
    path = state.workspace.partner_dir(caller.partner_id) / TASK_FILE
    if not path.is_file():
        raise NotFoundError("no task file yet: POST /v1/training/tasks generates one, PUT uploads one")
    return TaskFilePublic(tasks=TASK_FILE, counts=task_counts(load_tasks(path)))


@router.post(
    "/training/runs",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start an RL training run",
    responses={409: {"model": ErrorBody, "description": "A model version already has this run_name."}},
)
def create_run(
    body: TrainingRunCreate, caller: PartnerDep, session: SessionDep, jobs_app: JobsAppDep
) -> TrainingRunPublic:
    """Queue Guide-GRPO (or a baseline) on a GPU worker; poll the run, then serve the version it registers."""
    return TrainingRunPublic.of(submit_rl_train(jobs_app, session, caller.partner_id, body.root), [])


@router.get("/training/runs", summary="List training runs")
def list_runs(caller: PartnerDep, session: SessionDep, state: StateDep) -> TrainingRunsPublic:
    runs = jobs.list_jobs(session, caller.partner_id, kind=JobKind.RL_TRAIN)
    return TrainingRunsPublic(
        runs=[
            TrainingRunPublic.of(job, rl_run_metrics(state.workspace, job.partner_id, job.id, last=1))
            for job in runs
        ]
    )


@router.get("/training/runs/{job_id}", summary="Get a run's status and per-step metrics")
def get_run(
    job_id: str,
    caller: PartnerDep,
    session: SessionDep,
    state: StateDep,
    since_step: Annotated[int, Query(ge=0, description="Only steps after this one (for polling).")] = 0,
    last: Annotated[int, Query(ge=1, le=1000, description="At most this many, the newest.")] = 100,
) -> TrainingRunPublic:
    job = jobs.get_job(session, caller.partner_id, job_id, kind=JobKind.RL_TRAIN)
    metrics = rl_run_metrics(state.workspace, caller.partner_id, job_id, since_step=since_step, last=last)
    return TrainingRunPublic.of(job, metrics)


@router.post("/training/runs/{job_id}/cancel", summary="Cancel a training run", responses=FINISHED_JOB)
def cancel_run(job_id: str, caller: PartnerDep, session: SessionDep) -> TrainingRunPublic:
    """A queued run is cancelled at once; a running one is `cancelling` until it stops after its current
    step's checkpoint, then `cancelled`. Finished: 409."""
    job = jobs.cancel_job(session, caller.partner_id, job_id, kind=JobKind.RL_TRAIN)
    return TrainingRunPublic.of(job, [])


@router.post(
    "/training/runs/{job_id}/evaluations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Evaluate a finished run with pass@k",
    responses={409: {"model": ErrorBody, "description": "The run has not succeeded."}},
)
def evaluate_run(
    job_id: str, body: RunEvaluationCreate, caller: PartnerDep, session: SessionDep, jobs_app: JobsAppDep
) -> JobPublic:
    """Sample n replies per task from the run's start and trained models and score them; poll the job."""
    job = submit_rl_eval(
        jobs_app, session, caller.partner_id, job_id, n=body.n, ks=body.ks, split=body.split, limit=body.limit
    )
    return JobPublic.model_validate(job)


@router.get("/model-versions", summary="List registered model versions")
def list_versions(caller: PartnerDep, session: SessionDep) -> ModelVersionsPublic:
    versions = model_versions.list_model_versions(session, caller.partner_id)
    return ModelVersionsPublic.model_validate({"versions": versions}, from_attributes=True)


@router.get("/model-versions/{version_id}", summary="Get a model version")
def get_version(version_id: str, caller: PartnerDep, session: SessionDep) -> ModelVersionPublic:
    return ModelVersionPublic.model_validate(
        model_versions.get_model_version(session, caller.partner_id, version_id)
    )


@router.get("/generator", summary="Get the generator serving the partner")
def get_generator(caller: PartnerDep, session: SessionDep) -> GeneratorPublic:
    return GeneratorPublic.model_validate(partners.serving_generator(session, caller.partner_id))


@router.put("/generator", summary="Serve a generator version")
def put_generator(body: GeneratorUpdate, caller: PartnerDep, session: SessionDep) -> GeneratorPublic:
    """Serve one of the partner's generator versions (name or id), or null for the config's model.

    The partner's next request uses it, on every API replica; no restart."""
    serving = partners.set_generator_version(session, caller.partner_id, body.model_version)
    return GeneratorPublic.model_validate(serving)
