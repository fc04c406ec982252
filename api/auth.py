"""Who a request comes from, settled from its API key before FastAPI reads the request's body.

FastAPI reads and parses a body (JSON in the event loop, multipart into spooled files) before it solves a
route's dependencies, so a key checked in a dependency came after up to 20 MiB had been taken in for anyone
without a key. ``KeyFirstRoute``, the route class of every router under ``/v1``, reads the key first, as
FastAPI's docs show for custom route handlers; the dependencies in ``api/deps.py`` then only decide what
that identity may do, so a missing or unknown key is a 401 with the body left unread.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.errors import AuthenticationError
from naa.config.settings import NAASettings
from naa.errors import NotFoundError
from naa.storage import partners
from naa.storage.session import session_scope


@dataclass(frozen=True)
class Identity:
    """The holder of a valid key: a partner's key (maybe marked admin), or the process's admin key."""

    partner_id: str | None  # None for NAA_ADMIN_KEY, which belongs to no partner
    key_id: str | None
    is_admin: bool


_ADMIN_KEY_HOLDER = Identity(partner_id=None, key_id=None, is_admin=True)


def _bearer_key(authorization: str | None) -> str:
    scheme, key = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not key:
        raise AuthenticationError("send an API key in the header 'Authorization: Bearer <key>'")
    return key


def identify(settings: NAASettings, sessions: sessionmaker[Session], authorization: str | None) -> Identity:
    """The identity of a request's ``Authorization`` header.

    Raises:
        AuthenticationError: no bearer key, or one that is neither the admin key nor a live stored key.
    """
    key = _bearer_key(authorization)
    if settings.is_admin_key(key):
        return _ADMIN_KEY_HOLDER
    with session_scope(sessions) as session:
        try:
            row = partners.authenticate(session, key)
        except NotFoundError as err:
            raise AuthenticationError(str(err)) from err
        return Identity(partner_id=row.partner_id, key_id=row.id, is_admin=row.is_admin)


class KeyFirstRoute(APIRoute):
    """A route that settles ``request.state.identity`` before its body is read or its dependencies run."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def key_first(request: Request) -> Response:
            state = request.app.state.naa
            authorization = request.headers.get("authorization")
            # The key lookup is a database query: off the event loop, as FastAPI runs sync dependencies.
            request.state.identity = await run_in_threadpool(
                identify, state.settings, state.sessions, authorization
            )
            return await handler(request)

        return key_first
