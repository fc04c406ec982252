"""Server-Sent Events for the two streaming routes.

``/v1/chat`` sends named events (``intent``, ``passages``, ``token``..., ``done``) whose data is a JSON
schema of this API; ``/v1/chat/completions`` sends unnamed ``data:`` chunks ending in ``data: [DONE]``, as
OpenAI clients expect. An error after the stream has started cannot change the status any more, so it
becomes a last ``error`` event with the usual ``{code, message}`` body.
"""

from collections.abc import Iterable, Iterator

from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.errors import ErrorBody
from naa.errors import NAAError


def event(name: str | None, data: BaseModel) -> ServerSentEvent:
    return ServerSentEvent(data=data.model_dump_json(), event=name)


def with_error_event(events: Iterable[ServerSentEvent]) -> Iterator[ServerSentEvent]:
    """Pass events through; an NAAError raised mid-stream ends the stream with an ``error`` event."""
    try:
        yield from events
    except NAAError as err:
        yield event("error", ErrorBody(code=err.code, message=str(err)))


def stream_response(events: Iterable[ServerSentEvent]) -> EventSourceResponse:
    # The assistant's stream is blocking (torch): sse-starlette iterates it in a worker thread.
    return EventSourceResponse(with_error_event(events), ping=15)
