"""RL training runs, the model versions they register, and the generator version serving a partner."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel
from pydantic.config import JsonDict

from api.schemas.jobs import JOB_EXAMPLE
from api.schemas.request import RequestBody, check_text
from naa.eval.retrieval_eval import RetrievalQuestion
from naa.rl.tasks import Split
from naa.storage.models import Job, JobStatus, ModelKind

_RUN_CONFIG_EXAMPLE: JsonDict = {
    "tasks": "rl/tasks.jsonl",
    "variant": "guide",
    "steps": 50,
    "group_size": 8,
    "batch_prompts": 8,
    "run_name": "guide-2026-11-27",
}

_STEP_EXAMPLE: JsonDict = {
    "step": 12,
    "reward_mean": 0.41,
    "hint_fraction": 0.25,
    "filtered_fraction": 0.5,
    "loss": -0.0132,
    "kl": 0.0021,
    "tokens_per_s": 5120.0,
}

_VERSION_EXAMPLE: JsonDict = {
    "id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "kind": "generator",
    "name": "guide-2026-11-27",
    "metrics": {"step": 50, "reward_mean": 0.63},
    "created_at": "2026-11-27T10:40:00Z",
}

_RUN_EXAMPLE: JsonDict = {
    **{key: JOB_EXAMPLE[key] for key in ("id", "created_at", "started_at", "finished_at")},
    "status": "running",
    "progress": 0.24,
    "message": "step 12: reward 0.41, hints 0.25, filtered 0.5, loss -0.0132, 5120 tok/s",
    "error": None,
    "config": {**_RUN_CONFIG_EXAMPLE, "tasks": "/data/partners/acme/rl/tasks.jsonl"},
    "model_version": None,
    "metrics": [_STEP_EXAMPLE],
}


class TrainingRunCreate(RootModel[Annotated[dict[str, Any], BeforeValidator(check_text)]]):
    """Fields of ``RLConfig`` (naa/rl/config.py), validated by it: a bad field is a 422 naming it.

    ``tasks`` is a JSONL task file relative to the partner's folder in the data dir; the run keeps a copy
    (``config.tasks`` names it), so a file replaced later changes neither the run nor its evaluation.
    ``model`` is a packaged model name or ``version:<name>`` of one of the partner's generator versions;
    left out, the run starts from the model serving the partner now. ``output_dir`` is set by the server.
    ``run_name`` names the model version the run registers (default ``rl-job-<job id>``).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_RUN_CONFIG_EXAMPLE]})


class RunEvaluationCreate(RequestBody):
    """pass@k of a succeeded run's start model and trained model (``naa rl eval``), as a job on the ``gpu``
    queue: poll ``GET /v1/jobs/{id}``; its ``result`` holds pass@k, mean reward and the compression and
    capability-gain split, and the run's model version gets the trained model's pass@k in its metrics."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"n": 8, "k": [1, 8]}, {"n": 4, "split": "train", "limit": 20}]},
    )

    n: int = Field(8, ge=1, le=256, description="Replies sampled per task.")
    k: list[int] | None = Field(
        None, min_length=1, description="The k of pass@k, each at most n; default 1 and n."
    )
    split: Split = Field("heldout", description="Which tasks of the run's task file: heldout or train.")
    limit: int | None = Field(None, ge=1, description="Evaluate only the first this many tasks.")

    @property
    def ks(self) -> list[int]:
        return sorted(set(self.k or (1, self.n)))


class TrainingRunPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_RUN_EXAMPLE]})

    id: str = Field(..., description="The job id; also the Celery task id.")
    status: JobStatus
    progress: float = Field(..., ge=0, le=1, description="Steps done over steps planned.")
    message: str = Field(..., description="The last step's summary, or why the run failed.")
    error: str | None
    config: dict[str, Any] = Field(..., description="The RLConfig fields the run was started with.")
    model_version: str | None = Field(..., description="Name of the version it registered, once succeeded.")
    metrics: list[dict[str, Any]] = Field(
        ..., description="One record per step (reward, hint and filtered fractions, ratios, loss, KL...)."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, metrics: list[dict[str, Any]]) -> "TrainingRunPublic":
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            message=job.message,
            error=job.error,
            config=job.params.get("config", {}),
            model_version=(job.result or {}).get("model_version"),
            metrics=metrics,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class TrainingRunsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"runs": [_RUN_EXAMPLE]}]})

    runs: list[TrainingRunPublic] = Field(..., description="Newest first; metrics hold the last step only.")


class ModelVersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_VERSION_EXAMPLE]})

    id: str
    kind: ModelKind
    name: str = Field(..., description="Unique per partner and kind; `version:<name>` in a config.")
    metrics: dict[str, Any] = Field(..., description="The run's last step and its evaluation.")
    created_at: datetime


class ModelVersionsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"versions": [_VERSION_EXAMPLE]}]})

    versions: list[ModelVersionPublic] = Field(..., description="Newest first.")


class GeneratorUpdate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model_version": "guide-2026-11-27"}, {"model_version": None}]},
    )

    model_version: str | None = Field(
        ..., description="A generator version's name or id; null serves the model in the partner's config."
    )


class GeneratorPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"version": _VERSION_EXAMPLE, "model": "/data/partners/acme/rl/job-3e4f/model"},
                {"version": None, "model": "SmolLM2-135M-Instruct"},
            ]
        },
    )

    version: ModelVersionPublic | None = Field(..., description="The version serving, or null.")
    model: str = Field(..., description="What the generator loads: a model folder or packaged name.")


class TaskFileCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"per_template": 50, "seed": 0, "heldout": 0.2},
                {
                    "per_template": 50,
                    "questions": [
                        {"question": "Can I still return my tent after 40 days?", "doc_ids": ["returns.md"]}
                    ],
                },
            ]
        },
    )

    per_template: int = Field(50, ge=2, le=10_000, description="Tasks per template (per task source).")
    seed: int = Field(0, description="The same seed and examples give the same file.")
    heldout: float = Field(0.2, gt=0.0, lt=1.0, description="Share of each template held out for evaluation.")
    questions: list[RetrievalQuestion] | None = Field(
        None,
        max_length=10_000,
        description="Customer questions with the ids of the documents that answer them (as `naa eval "
        "retrieval` reads): citation tasks over the passages the partner's knowledge base finds for each.",
    )


class TaskFilePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"tasks": "rl/tasks.jsonl", "counts": {"intent/heldout": 10, "intent/train": 40}}]
        }
    )

    tasks: str = Field(..., description="The file, relative to the partner's folder: `tasks` of a run.")
    counts: dict[str, int] = Field(..., description="Tasks per `type/split`.")
