"""What routes depend on, as ``Annotated`` aliases: the app's state, a database transaction, the caller.

Every partner route takes ``PartnerDep``: the partner is the one its API key belongs to, never one named in
the request, so no route can reach another partner's data. Admin routes take ``AdminDep`` instead. The key
itself is checked before the body is read, by ``api.auth.KeyFirstRoute``, the route class of their routers.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.assistants import AssistantCache, serving_revision
from api.auth import Identity
from api.errors import PermissionDeniedError
from api.metrics import Metrics
from naa.assistant import Assistant
from naa.config.partner import PartnerConfig
from naa.config.settings import NAASettings
from naa.errors import NotFoundError
from naa.storage import partners
from naa.storage.session import session_scope
from naa.workspace import Workspace
from pipelines.celery_app import NAACelery


@dataclass
class AppState:
    """Everything a request may need that outlives it; one per app, in ``app.state.naa``."""

    settings: NAASettings
    workspace: Workspace
    engine: Engine
    sessions: sessionmaker[Session]
    assistants: AssistantCache
    metrics: Metrics
    jobs_app: NAACelery


@dataclass(frozen=True)
class Caller:
    """The partner a request acts for, from its API key."""

    partner_id: str
    key_id: str


# Async (like get_jobs_app): a sync dependency costs a thread-pool hop per request, for nothing to wait on.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.naa
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def check_path_ids(request: Request) -> None:
    """Run on every route (``create_app``): an id in the path never holds NUL (``%00``), so it names nothing.

    Without this, PostgreSQL refuses the NUL in the lookup and the request is a 500 instead of a 404.
    """
    for name, value in request.path_params.items():
        if "\x00" in value:
            raise NotFoundError(f"{name} {value!r} does not exist: no id holds NUL (%00)")


def get_session(state: StateDep) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back if the route raised."""
    with session_scope(state.sessions) as session:
        yield session


# scope="function": the transaction ends when the route returns, so a failed commit is the client's 500,
# not a success response followed by lost data.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer naa_...`")


async def get_identity(request: Request, _: Annotated[Any, Depends(_bearer)]) -> Identity:
    """The identity ``KeyFirstRoute`` settled before the body was read; the bearer parameter declares the
    key in the OpenAPI schema."""
    identity: Identity = request.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def get_caller(identity: IdentityDep) -> Caller:
    if identity.partner_id is None or identity.key_id is None:
        raise PermissionDeniedError(
            "the admin key is not scoped to a partner; use one of the partner's API keys"
        )
    return Caller(partner_id=identity.partner_id, key_id=identity.key_id)


PartnerDep = Annotated[Caller, Depends(get_caller)]


async def require_admin(identity: IdentityDep) -> None:
    """Admin routes accept the process's admin key (``NAA_ADMIN_KEY``) or a stored key marked admin."""
    if not identity.is_admin:
        raise PermissionDeniedError(
            "this route needs the admin key, and partner API keys are not admin keys: the admin key is the "
            "secret set in NAA_ADMIN_KEY when naa serve starts (admin routes are off without it); send it "
            "as 'Authorization: Bearer <that secret>'"
        )


AdminDep = Depends(require_admin)


def get_partner_config(caller: PartnerDep, session: SessionDep) -> PartnerConfig:
    return partners.partner_config(partners.get_partner(session, caller.partner_id))


PartnerConfigDep = Annotated[PartnerConfig, Depends(get_partner_config)]


def get_assistant(caller: PartnerDep, state: StateDep) -> Assistant:
    """The partner's assistant, looked up in a transaction of its own: the request's, held while the model
    writes for seconds, kept a pooled connection per running chat (16 took all 15, and every other request
    then waited for one)."""
    with session_scope(state.sessions) as session:
        row = partners.get_partner(session, caller.partner_id)
        revision = serving_revision(row)
        return state.assistants.get(caller.partner_id, revision, lambda: partners.partner_config(row))


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


async def get_jobs_app(state: StateDep) -> NAACelery:
    return state.jobs_app


JobsAppDep = Annotated[NAACelery, Depends(get_jobs_app)]
