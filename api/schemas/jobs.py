"""Background jobs: status and progress."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from naa.storage.models import JobKind, JobStatus

JOB_EXAMPLE: JsonDict = {
    "id": "3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b",
    "kind": "kb_index",
    "status": "running",
    "progress": 0.4,
    "message": "indexing: embedding 120/300 chunks",
    "result": None,
    "error": None,
    "created_at": "2026-11-27T09:00:00Z",
    "started_at": "2026-11-27T09:00:01Z",
    "finished_at": None,
}


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: str
    kind: JobKind
    status: JobStatus
    progress: float = Field(..., ge=0, le=1)
    message: str = Field(..., description="What the job is doing now.")
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"jobs": [JOB_EXAMPLE]}]})

    jobs: list[JobPublic] = Field(..., description="Newest first.")
