"""The SSE plumbing of the streaming routes: a blocking stream read in worker threads, closed at the end."""

import threading
from collections.abc import Generator

import anyio
from sse_starlette import ServerSentEvent

from api.sse import in_worker_threads


def test_the_blocking_stream_is_closed_when_the_client_goes() -> None:
    """sse-starlette cancels the reading task when the client disconnects; the assistant's stream must be
    closed then (its reply's generation ends), not left for the garbage collector to close on any thread."""
    closed = threading.Event()

    def reply() -> Generator[ServerSentEvent, None, None]:
        try:
            while True:
                yield ServerSentEvent(data="token")
        finally:
            closed.set()

    async def client_leaves_after_the_first_event() -> bool:
        async with anyio.create_task_group() as group:

            async def read() -> None:
                async for _ in in_worker_threads(reply()):
                    group.cancel_scope.cancel()

            group.start_soon(read)
        return closed.is_set()  # before the event loop ends, which would finalize what was left open

    assert anyio.run(client_leaves_after_the_first_event)
