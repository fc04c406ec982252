"""Every error the API returns is JSON ``{code, message}``; the status comes from one table, by class.

Routers never catch: an ``NAAError`` raised anywhere below them reaches ``_naa_error`` and gets the status of
the nearest class in ``STATUS_BY_ERROR``. Framework errors (unknown route, bad JSON, schema violations) are
reshaped to the same body, so a client parses one error format.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from naa.errors import (
    ConfigError,
    ConflictError,
    GenerationError,
    InputError,
    ModelUnavailableError,
    NAAError,
    NotFoundError,
    RetrievalError,
)

log = logging.getLogger(__name__)


class AuthenticationError(NAAError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthorized"


class PermissionDeniedError(NAAError):
    """A valid key used outside its scope: a partner key on an admin route."""

    code = "forbidden"


class UnsupportedMediaTypeError(NAAError):
    """An upload whose file type the knowledge base cannot read, or a JSON body sent as another type."""

    code = "unsupported_media_type"


STATUS_BY_ERROR: dict[type[NAAError], int] = {
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    UnsupportedMediaTypeError: 415,
    ConfigError: 422,
    InputError: 422,
    GenerationError: 502,
    ModelUnavailableError: 503,
    RetrievalError: 503,
    NAAError: 500,
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(..., description="Machine-readable error name, stable across releases.")
    message: str = Field(..., description="What went wrong and how to fix it.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "not_found", "message": "conversation 'c1' does not exist"}]}
    )


def status_of(error: NAAError) -> int:
    """The status of the nearest class of ``error`` in the table (the table ends with the root)."""
    return next(status for cls, status in STATUS_BY_ERROR.items() if isinstance(error, cls))


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(code=code, message=message).model_dump(), status_code=status, headers=headers
    )


async def _naa_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NAAError)
    status = status_of(error)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, error, exc_info=error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, error.code, str(error), headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return error_response(422, "malformed_json", f"the request body is not valid JSON: {first['msg']}")
    sent = request.headers.get("content-type", "")
    if tuple(first["loc"]) == ("body",) and not sent.startswith("application/json"):
        # FastAPI reads a JSON route's body as JSON only when the request says it is JSON; anything else
        # arrives as a string, and the model's error would read as if the fields were wrong.
        return error_response(
            415,
            UnsupportedMediaTypeError.code,
            f"the body was sent as {sent or 'no content type'}; send JSON, Content-Type: application/json",
        )
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
    return error_response(422, "invalid_request", f"{where}: {first['msg']}{more}")


def _unparsable_body(error: StarletteHTTPException) -> JSONResponse:
    # The framework's 400s: a JSON body that is not UTF-8 or nests too deeply for the parser (the cause),
    # a multipart body without a boundary or cut short (Starlette's own detail). The API documents these as
    # malformed requests, a 422, like JSON that does not parse.
    cause = error.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return error_response(422, "malformed_json", "the request body is not valid JSON: it is not UTF-8")
    if isinstance(cause, RecursionError):
        return error_response(
            422, "malformed_json", "the request body is not valid JSON: it nests too deeply"
        )
    return error_response(422, "malformed_body", f"the request body cannot be parsed: {error.detail}")


def _allowed_methods(request: Request) -> list[str]:
    """Every method an API route takes at this path. The router's 405 names those of the first route it
    tried only: ``Allow: POST`` for ``/v1/conversations``, which takes GET too."""
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:  # only the framework's body parsing raises these: routers never do
        return _unparsable_body(error)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(error.status_code, "http_error")
    message = (
        f"no route {request.method} {request.url.path}" if error.status_code == 404 else str(error.detail)
    )
    headers = dict(error.headers or {})
    if error.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.url.path} takes {headers['Allow']}, not {request.method}"
    return error_response(error.status_code, code, message, headers)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # A bug, not a user error: the details go to the log, never to the client.
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "the server failed on this request; the error is in its log")


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(NAAError, _naa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


# Documented on every route, so the OpenAPI page shows the error body beside each success body.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "Missing, unknown or revoked API key.",
        403: "The key may not use this route.",
        404: "The object does not exist for this partner.",
        413: "The request body is larger than the server's limit.",
        422: "The request is malformed or fails validation.",
    }.items()
}

# What the routes that run a partner's models may also answer.
MODEL_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        409: "The partner is not built yet (no intent model): build it first.",
        502: "The generator failed while writing the reply (`generation_error`).",
        503: "A model or the knowledge-base index cannot be used now (`model_unavailable`, "
        "`retrieval_error`); retrying later may succeed.",
    }.items()
}

# The cancel routes' 409: the job already ended (succeeded, failed or cancelled).
FINISHED_JOB: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The job has already finished; nothing to cancel."}
}
