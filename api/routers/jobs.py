"""``/v1/jobs``: progress of the partner's background jobs (indexing, training)."""

from fastapi import APIRouter

from api.auth import KeyFirstRoute
from api.deps import PartnerDep, SessionDep
from api.errors import ERROR_RESPONSES, FINISHED_JOB
from api.paging import Limit, Offset
from api.schemas.jobs import JobPublic, JobsPublic
from naa.storage import jobs

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1/jobs", tags=["knowledge base"], responses=ERROR_RESPONSES
)


@router.get("", summary="List jobs")
def list_jobs(caller: PartnerDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> JobsPublic:
    """The partner's jobs, newest first."""
    found = jobs.list_jobs(session, caller.partner_id, limit=limit, offset=offset)
    return JobsPublic.model_validate({"jobs": found}, from_attributes=True)


@router.get("/{job_id}", summary="Get a job's status and progress")
def get_job(job_id: str, caller: PartnerDep, session: SessionDep) -> JobPublic:
    """Poll this until `status` is succeeded, failed or cancelled; `progress` goes from 0 to 1."""
    return JobPublic.model_validate(jobs.get_job(session, caller.partner_id, job_id))


@router.post("/{job_id}/cancel", summary="Cancel a job", responses=FINISHED_JOB)
def cancel_job(job_id: str, caller: PartnerDep, session: SessionDep) -> JobPublic:
    """A queued job is cancelled at once; a running one is `cancelling` until it stops at its next progress
    check, then `cancelled`. A finished one is a 409."""
    return JobPublic.model_validate(jobs.cancel_job(session, caller.partner_id, job_id))
