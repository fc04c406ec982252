"""Every error the API returns is JSON ``{code, message}``; the status comes from one table, by class.

Routers never catch: an ``NAAError`` raised anywhere below them reaches ``_naa_error`` and gets the status of
the nearest class in ``STATUS_BY_ERROR``. Framework errors (unknown route, bad JSON, schema violations) are
reshaped to the same body, so a client parses one error format.

The OpenAI-compatible routes (tagged ``OPENAI_TAG``) add OpenAI's ``error`` object to that body and refuse a
request with a 400 where the others answer 422: OpenAI's SDKs read the message from ``error`` only (the npm
package showed "422 status code (no body)") and raise a 400 as ``BadRequestError``.
"""

import logging
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
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
    ServiceUnavailableError,
)

log = logging.getLogger(__name__)

OPENAI_TAG = "openai compatible"


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
    ServiceUnavailableError: 503,
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


class OpenAIError(BaseModel):
    """OpenAI's error object: what its SDKs raise as their exception's message, code and param."""

    message: str
    type: Literal["invalid_request_error", "server_error"]
    param: str | None = Field(None, description="The request field at fault, when one is.")
    code: str


class OpenAIErrorBody(ErrorBody):
    """The body of every error of the OpenAI-compatible routes: NAA's fields and OpenAI's ``error``."""

    error: OpenAIError

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "invalid_request",
                    "message": "body.n: Input should be less than or equal to 1",
                    "error": {
                        "message": "body.n: Input should be less than or equal to 1",
                        "type": "invalid_request_error",
                        "param": "n",
                        "code": "invalid_request",
                    },
                }
            ]
        }
    )


def openai_error_body(status: int, code: str, message: str, param: str | None = None) -> OpenAIErrorBody:
    """An error of ``status`` in the OpenAI-compatible routes' body."""
    kind: Literal["invalid_request_error", "server_error"] = (
        "server_error" if status >= 500 else "invalid_request_error"
    )
    return OpenAIErrorBody(
        code=code, message=message, error=OpenAIError(message=message, type=kind, param=param, code=code)
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


def _reply(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    param: str | None = None,
) -> JSONResponse:
    """The error response in the shape of the route that was called (see the module's docstring)."""
    route = request.scope.get("route")
    if OPENAI_TAG not in getattr(route, "tags", ()):
        return error_response(status, code, message, headers)
    status = 400 if status == 422 else status
    body = openai_error_body(status, code, message, param)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def log_server_error(error: NAAError, what: str) -> None:
    """A failure of the server (a 5xx: a model that failed, a damaged index) goes to the log with its
    traceback, also when the client only saw it as a stream's last event; a client's mistake does not."""
    if status_of(error) >= 500:
        log.error("%s failed: %s", what, error, exc_info=error)


async def _naa_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NAAError)
    status = status_of(error)
    log_server_error(error, f"{request.method} {request.url.path}")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return _reply(request, status, error.code, str(error), headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return _reply(request, 422, "malformed_json", f"the request body is not valid JSON: {first['msg']}")
    sent = request.headers.get("content-type", "")
    if tuple(first["loc"]) == ("body",) and not sent.startswith("application/json"):
        # FastAPI reads a JSON route's body as JSON only when the request says it is JSON; anything else
        # arrives as a string, and the model's error would read as if the fields were wrong.
        return _reply(
            request,
            415,
            UnsupportedMediaTypeError.code,
            f"the body was sent as {sent or 'no content type'}; send JSON, Content-Type: application/json",
        )
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
    field = str(first["loc"][1]) if first["loc"][:1] == ("body",) and len(first["loc"]) > 1 else None
    return _reply(request, 422, "invalid_request", f"{where}: {first['msg']}{more}", param=field)


def _unparsable_body(request: Request, error: StarletteHTTPException) -> JSONResponse:
    # The framework's 400s: a JSON body that is not UTF-8 or nests too deeply for the parser (the cause),
    # a multipart body without a boundary or cut short (Starlette's own detail). The API documents these as
    # malformed requests, a 422, like JSON that does not parse.
    cause = error.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return _reply(request, 422, "malformed_json", "the request body is not valid JSON: it is not UTF-8")
    if isinstance(cause, RecursionError):
        return _reply(
            request, 422, "malformed_json", "the request body is not valid JSON: it nests too deeply"
        )
    return _reply(request, 422, "malformed_body", f"the request body cannot be parsed: {error.detail}")


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
        return _unparsable_body(request, error)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(error.status_code, "http_error")
    message = (
        f"no route {request.method} {request.url.path}" if error.status_code == 404 else str(error.detail)
    )
    headers = dict(error.headers or {})
    if error.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.url.path} takes {headers['Allow']}, not {request.method}"
    return _reply(request, error.status_code, code, message, headers)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # A bug, not a user error: the details go to the log, never to the client.
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    message = "the server failed on this request; the error is in its log"
    return _reply(request, 500, "internal_error", message)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    """The database is down, restarting or not answering (SQLAlchemy's OperationalError), or every pooled
    connection stayed busy past the pool's timeout (TimeoutError): a 503 that says so and that a load
    balancer or client can retry, instead of a 500 that reads like a bug. Logged in one line: a traceback
    per request adds nothing while the database is away."""
    cause = getattr(error, "orig", None) or error
    log.error("%s %s: the database is unavailable: %s", request.method, request.url.path, str(cause).strip())
    message = "the database cannot be reached or did not answer; retry shortly"
    return _reply(request, 503, ServiceUnavailableError.code, message, {"Retry-After": "5"})


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
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

# The same statuses on the OpenAI-compatible routes, in their body, with a 400 for the 422.
# "4XX" also keeps FastAPI from documenting its automatic 422, which these routes answer as a 400.
OPENAI_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    **{
        (400 if status == 422 else status): {**response, "model": OpenAIErrorBody}
        for status, response in {**ERROR_RESPONSES, **MODEL_RESPONSES}.items()
    },
    "4XX": {"model": OpenAIErrorBody, "description": "Any other refusal, in the same shape."},
}

# The cancel routes' 409: the job already ended (succeeded, failed or cancelled).
FINISHED_JOB: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The job has already finished; nothing to cancel."}
}
