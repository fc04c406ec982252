"""Server-Sent Events for the two streaming routes.

``/v1/chat`` sends named events (``intent``, ``passages``, ``token``..., ``done``) whose data is a JSON
schema of this API; ``/v1/chat/completions`` sends unnamed ``data:`` chunks ending in ``data: [DONE]``, as
OpenAI clients expect. An error after the stream has started cannot change the status any more, so it
becomes a last ``error`` event with the usual ``{code, message}`` body.
"""

from collections.abc import AsyncIterator, Generator, Iterable

import anyio
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool

from api.errors import ErrorBody, log_server_error
from naa.errors import NAAError


def event(name: str | None, data: BaseModel) -> ServerSentEvent:
    return ServerSentEvent(data=data.model_dump_json(), event=name)


def with_error_event(events: Iterable[ServerSentEvent]) -> Generator[ServerSentEvent, None, None]:
    """Pass events through; an NAAError raised mid-stream ends the stream with an ``error`` event."""
    try:
        yield from events
    except NAAError as err:
        log_server_error(err, "a streamed reply")
        yield event("error", ErrorBody(code=err.code, message=str(err)))


# On SIGTERM (a deploy, `docker stop`) a reply being streamed gets this long to finish before its stream is
# cut; it was cut at once, mid-sentence, with no `done` or `error` event. Below Docker's stop grace period
# (compose.yaml gives the API 30 s), so the stream ends before the process is killed.
SHUTDOWN_GRACE_S = 20.0


def stream_response(events: Iterable[ServerSentEvent]) -> EventSourceResponse:
    return EventSourceResponse(
        in_worker_threads(with_error_event(events)), ping=15, shutdown_grace_period=SHUTDOWN_GRACE_S
    )


async def in_worker_threads(
    events: Generator[ServerSentEvent, None, None],
) -> AsyncIterator[ServerSentEvent]:
    """The assistant's blocking (torch) stream, read in worker threads and closed when the response ends.

    When the client goes, sse-starlette stops reading; closed here, the reply's generation ends at its next
    step instead of running on for no one until the garbage collector finds the stream.
    """
    try:
        async for item in iterate_in_threadpool(events):
            yield item
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)
