"""Admin routes: partners and API keys. They need the admin key, never a partner's key.

The admin key is the secret the server is started with in ``NAA_ADMIN_KEY``; without it these routes are off.
"""

from fastapi import APIRouter, Response, status

from api import onboarding
from api.auth import KeyFirstRoute
from api.deps import AdminDep, JobsAppDep, SessionDep, StateDep
from api.errors import ERROR_RESPONSES, FINISHED_JOB, ErrorBody
from api.paging import Limit, Offset
from api.schemas.admin import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
    PartnerCreate,
    PartnerCreated,
    PartnerPublic,
    PartnersPublic,
    PartnerUpdate,
)
from api.schemas.jobs import JobPublic, JobsPublic
from naa.storage import jobs, partners

router = APIRouter(
    route_class=KeyFirstRoute,
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=ERROR_RESPONSES,
)

_INVALID_CONFIG = "The config is invalid: a field, a relative or missing path, an intent its examples lack."


def _created_key(session: SessionDep, partner_id: str, name: str) -> ApiKeyCreated:
    row, key = partners.create_api_key(session, partner_id, name)
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": key})


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    summary="Create a partner from its YAML config",
    responses={
        409: {"model": ErrorBody, "description": "A partner of this id is already there."},
        422: {"model": ErrorBody, "description": _INVALID_CONFIG},
    },
)
def create_partner(body: PartnerCreate, session: SessionDep, state: StateDep) -> PartnerCreated:
    """Store the partner file (validated now) and return a first API key, shown once.

    Paths in the file are absolute paths on the server, and must exist. The partner answers once it is
    built: `POST /v1/admin/partners/{id}/build`, or `naa build`."""
    config = body.partner_config(state.workspace)
    partner = partners.create_partner(session, config.id, config.name, config_yaml=body.config_yaml)
    return PartnerCreated.model_validate(
        {"partner": partner, "api_key": _created_key(session, partner.id, "default")}, from_attributes=True
    )


@router.put(
    "/partners/{partner_id}",
    summary="Replace a partner's YAML config",
    responses={
        409: {"model": ErrorBody, "description": "The partner's config is a file on disk: edit that file."},
        422: {"model": ErrorBody, "description": f"{_INVALID_CONFIG} Or its id is not the URL's."},
    },
)
def replace_partner(
    partner_id: str, body: PartnerUpdate, session: SessionDep, state: StateDep
) -> PartnerPublic:
    """Replace the stored partner file (validated as for the create); its keys and data stay.

    Prompts, thresholds and handoff rules apply from the partner's next request. Its intent model and
    index stay those already built: after changing the intent examples or the sources, rebuild with
    `POST /v1/admin/partners/{id}/build`, as after the create."""
    config = body.partner_config(state.workspace)
    return PartnerPublic.model_validate(
        partners.update_partner(session, partner_id, config.name, body.config_yaml)
    )


@router.delete(
    "/partners/{partner_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,  # no body, so no JSON content type
    summary="Delete a partner",
    responses={409: {"model": ErrorBody, "description": "A job of the partner is queued or running."}},
)
def delete_partner(partner_id: str, session: SessionDep, state: StateDep) -> None:
    """Delete the partner with its keys, conversations, documents, jobs, model versions and its folder in
    the data dir (indexes, models, uploads). Refused while one of its jobs is queued or running: cancel
    them first (`POST .../jobs/{job_id}/cancel`). The id can then be created again."""
    onboarding.delete_partner(session, state.workspace, partner_id)


@router.post("/partners/{partner_id}/build", status_code=status.HTTP_202_ACCEPTED, summary="Build a partner")
def build_partner(partner_id: str, session: SessionDep, jobs_app: JobsAppDep) -> JobsPublic:
    """Queue intent training and indexing of the partner's sources; the partner's key can poll the jobs.

    A partner that is answering keeps doing so with its old model until the new one is complete."""
    return JobsPublic.model_validate(
        {"jobs": onboarding.queue_build(session, jobs_app, partner_id)}, from_attributes=True
    )


@router.get("/partners/{partner_id}/jobs", summary="List a partner's jobs")
def list_partner_jobs(
    partner_id: str, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> JobsPublic:
    """The partner's jobs, newest first: what its builds, uploads and training runs are doing."""
    partners.get_partner(session, partner_id)
    found = jobs.list_jobs(session, partner_id, limit=limit, offset=offset)
    return JobsPublic.model_validate({"jobs": found}, from_attributes=True)


@router.post(
    "/partners/{partner_id}/jobs/{job_id}/cancel", summary="Cancel a partner's job", responses=FINISHED_JOB
)
def cancel_partner_job(partner_id: str, job_id: str, session: SessionDep) -> JobPublic:
    """As the partner's own cancel: a queued job stops at once, a running one is `cancelling` until it stops.
    For an operator freeing the shared GPU worker, or a partner to delete, without the partner's key."""
    return JobPublic.model_validate(jobs.cancel_job(session, partner_id, job_id))


@router.get("/partners", summary="List partners")
def list_partners(session: SessionDep) -> PartnersPublic:
    return PartnersPublic.model_validate({"partners": partners.list_partners(session)}, from_attributes=True)


@router.post("/partners/{partner_id}/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_api_key(partner_id: str, body: ApiKeyCreate, session: SessionDep) -> ApiKeyCreated:
    """A new key for the partner; the full key is in this response only."""
    return _created_key(session, partner_id, body.name)


@router.get("/partners/{partner_id}/keys", summary="List a partner's API keys")
def list_api_keys(partner_id: str, session: SessionDep) -> ApiKeysPublic:
    partners.get_partner(session, partner_id)
    return ApiKeysPublic.model_validate(
        {"keys": partners.list_api_keys(session, partner_id)}, from_attributes=True
    )


@router.delete("/partners/{partner_id}/keys/{key_id}", summary="Revoke an API key")
def revoke_api_key(partner_id: str, key_id: str, session: SessionDep) -> ApiKeyPublic:
    """The key stops working at once; revoking it again changes nothing."""
    return ApiKeyPublic.model_validate(partners.revoke_api_key(session, partner_id, key_id))
