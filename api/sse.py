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
from naa.errors import NAAError, ServiceUnavailableError


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
# A reply still streaming this long into the shutdown ends with an `error` event (service_unavailable: ask
# again), well before sse-starlette cancels the stream at SHUTDOWN_GRACE_S and the client sees it just stop.
CUT_AFTER_S = SHUTDOWN_GRACE_S - 5.0


def stream_response(events: Iterable[ServerSentEvent]) -> EventSourceResponse:
    shutdown = anyio.Event()
    return EventSourceResponse(
        in_worker_threads(with_error_event(events), shutdown),
        ping=15,
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_S,
    )


async def in_worker_threads(
    events: Generator[ServerSentEvent, None, None], shutdown: anyio.Event, cut_after_s: float = CUT_AFTER_S
) -> AsyncIterator[ServerSentEvent]:
    """The assistant's blocking (torch) stream, read in worker threads and closed when the response ends.

    When the client goes, sse-starlette stops reading; closed here, the reply's generation ends at its next
    step instead of running on for no one until the garbage collector finds the stream. When the server
    shuts down (``shutdown`` set), the stream runs on for ``cut_after_s`` and is then ended by its own
    error handling, as if its generator had failed: the client gets an error event, nothing is stored.
    """
    cut_at: float | None = None
    try:
        async for item in iterate_in_threadpool(events):
            yield item
            if shutdown.is_set():
                now = anyio.current_time()
                cut_at = now + cut_after_s if cut_at is None else cut_at
                if now >= cut_at:
                    last = await anyio.to_thread.run_sync(_cut, events)
                    if last is not None:
                        yield last
                    return
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)


def _cut(events: Generator[ServerSentEvent, None, None]) -> ServerSentEvent | None:
    """Raise the shutdown where the stream waits; its error handling (``with_error_event``, or the
    completions route's OpenAI error chunk) answers with its last event."""
    try:
        return events.throw(
            ServiceUnavailableError("the server is shutting down and cut this reply short; send it again")
        )
    except StopIteration:
        return None
