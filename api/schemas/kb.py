"""Knowledge-base documents: upload, list, delete."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.schemas.jobs import JOB_EXAMPLE, JobPublic
from naa.storage.models import DocumentStatus

_DOCUMENT_EXAMPLE: JsonDict = {
    "doc_id": "refund-policy.md",
    "title": "refund-policy.md",
    "source": "refund-policy.md",
    "url": "",
    "status": "indexed",
    "chunk_count": 4,
    "error": None,
    "updated_at": "2026-11-27T09:00:05Z",
}


class DocumentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_DOCUMENT_EXAMPLE]})

    doc_id: str = Field(
        ...,
        description="The uploaded file's name; delete the document by it. A FAQ file's entries are found "
        "and cited as faq.csv#1, faq.csv#2 (or #<its id column>) and deleted with it.",
    )
    title: str
    source: str
    url: str
    status: DocumentStatus = Field(
        ...,
        description="pending until its indexing job has run; failed if the job failed or was cancelled "
        "(see error): upload the file again.",
    )
    chunk_count: int = Field(..., description="Passages in the index; a FAQ file's: all its entries'.")
    error: str | None
    updated_at: datetime | None = Field(..., description="None for documents indexed outside the API.")


class DocumentsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"documents": [_DOCUMENT_EXAMPLE]}]})

    documents: list[DocumentPublic]


class UploadPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job": {**JOB_EXAMPLE, "status": "queued", "progress": 0.0, "message": ""},
                    "documents": [{**_DOCUMENT_EXAMPLE, "status": "pending", "chunk_count": 0}],
                }
            ]
        }
    )

    job: JobPublic = Field(..., description="The indexing job; poll GET /v1/jobs/{id} for its progress.")
    documents: list[DocumentPublic]
