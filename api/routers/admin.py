"""Admin routes: partners and API keys. They need the admin key, never a partner's key."""

from fastapi import APIRouter, status

from api.deps import AdminDep, JobsAppDep, SessionDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.onboarding import queue_build
from api.schemas.admin import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
    PartnerCreate,
    PartnerCreated,
    PartnersPublic,
)
from api.schemas.jobs import JobsPublic
from naa.storage import partners

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminDep], responses=ERROR_RESPONSES)


def _created_key(session: SessionDep, partner_id: str, name: str) -> ApiKeyCreated:
    row, key = partners.create_api_key(session, partner_id, name)
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": key})


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    summary="Create a partner from its YAML config",
    responses={409: {"model": ErrorBody, "description": "A partner of this id is already there."}},
)
def create_partner(body: PartnerCreate, session: SessionDep) -> PartnerCreated:
    """Store the partner file (validated now) and return a first API key, shown once.

    The partner answers once it is built: `POST /v1/admin/partners/{id}/build`, or `naa build`."""
    config = body.partner_config()
    partner = partners.create_partner(session, config.id, config.name, config_yaml=body.config_yaml)
    return PartnerCreated.model_validate(
        {"partner": partner, "api_key": _created_key(session, partner.id, "default")}, from_attributes=True
    )


@router.post("/partners/{partner_id}/build", status_code=status.HTTP_202_ACCEPTED, summary="Build a partner")
def build_partner(partner_id: str, session: SessionDep, jobs_app: JobsAppDep) -> JobsPublic:
    """Queue intent training and indexing of the partner's sources; the partner's key can poll the jobs.

    A partner that is answering keeps doing so with its old model until the new one is complete."""
    return JobsPublic.model_validate(
        {"jobs": queue_build(session, jobs_app, partner_id)}, from_attributes=True
    )


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
