"""``/v1/kb/documents``: upload, list and delete the partner's knowledge-base documents."""

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile, status

from api import kb
from api.auth import KeyFirstRoute
from api.deps import JobsAppDep, PartnerConfigDep, SessionDep, StateDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.schemas.kb import DocumentsPublic, UploadPublic

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1/kb/documents", tags=["knowledge base"], responses=ERROR_RESPONSES
)

_UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "A document of this file name is already there.",
    },
    415: {"model": ErrorBody, "description": "A file type the knowledge base cannot read."},
}


_UPLOAD_EXAMPLE = {"files": ["refund-policy.md", "faq.csv"]}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload documents",
    responses=_UPLOAD_ERRORS,
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": _UPLOAD_EXAMPLE}}}},
)
def upload_documents(
    files: Annotated[list[UploadFile], File(description="Markdown, text, HTML, PDF, or JSON/CSV FAQ files.")],
    config: PartnerConfigDep,
    session: SessionDep,
    state: StateDep,
    jobs_app: JobsAppDep,
) -> UploadPublic:
    """Store the files and queue their indexing; each file name is its document id. Poll the job."""
    return kb.upload_documents(session, jobs_app, state.workspace, config, files)


@router.get("", summary="List documents")
def list_documents(config: PartnerConfigDep, session: SessionDep, state: StateDep) -> DocumentsPublic:
    """Every document with its indexing status; pending ones are not searchable yet."""
    return kb.list_documents(session, state.workspace, config)


@router.delete(
    "/{doc_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,  # no body, so no JSON content type
    summary="Delete a document",
)
def delete_document(doc_id: str, config: PartnerConfigDep, session: SessionDep, state: StateDep) -> None:
    """Remove the document (a FAQ file with all its entries) and its passages from the index; the next search
    no longer finds it. A pending one is removed too, and its job leaves it out."""
    kb.delete_document(session, state.workspace, config, doc_id)
