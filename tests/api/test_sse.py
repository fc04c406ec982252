"""The SSE plumbing of the streaming routes: a blocking stream read in worker threads, closed at the end."""

import json
import threading
import time
from collections.abc import Generator
from pathlib import Path

import anyio
import yaml
from sse_starlette import ServerSentEvent

from api.sse import CUT_AFTER_S, SHUTDOWN_GRACE_S, in_worker_threads, stream_response, with_error_event

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


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
                async for _ in in_worker_threads(reply(), anyio.Event()):
                    group.cancel_scope.cancel()

            group.start_soon(read)
        return closed.is_set()  # before the event loop ends, which would finalize what was left open

    assert anyio.run(client_leaves_after_the_first_event)


def test_a_streamed_reply_may_finish_during_a_graceful_shutdown_before_docker_kills_the_api() -> None:
    """SIGTERM cut a reply being streamed mid-sentence (no done or error event): sse-starlette's default is
    to end every stream at once on shutdown. It now gets SHUTDOWN_GRACE_S, which must end before Docker's
    stop grace period for the API does, or the process is killed with the stream still open."""
    response = stream_response(iter([ServerSentEvent(data="token")]))
    assert response._shutdown_grace_period == SHUTDOWN_GRACE_S > CUT_AFTER_S > 0
    grace = yaml.safe_load(COMPOSE.read_text())["services"]["api"]["stop_grace_period"]
    assert grace.endswith("s") and float(grace.removesuffix("s")) > SHUTDOWN_GRACE_S


def test_a_reply_still_streaming_late_in_a_shutdown_ends_with_an_error_event_not_mid_sentence() -> None:
    """sse-starlette cancels a stream at the end of its grace period: the client saw the reply just stop.
    Before then the reply's own error handling ends it, as when its generator fails."""
    closed = threading.Event()

    def reply() -> Generator[ServerSentEvent, None, None]:
        try:
            while True:
                time.sleep(0.01)
                yield ServerSentEvent(data="token", event="token")
        finally:
            closed.set()

    async def shut_down_mid_reply() -> list[ServerSentEvent]:
        shutdown = anyio.Event()
        received: list[ServerSentEvent] = []
        async for item in in_worker_threads(with_error_event(reply()), shutdown, cut_after_s=0.2):
            received.append(item)
            if len(received) == 3:
                shutdown.set()
        return received

    received = anyio.run(shut_down_mid_reply)
    *tokens, last = received
    assert len(tokens) > 3 and {t.event for t in tokens} == {"token"}
    assert last.event == "error"
    assert json.loads(str(last.data)) == {
        "code": "service_unavailable",
        "message": "the server is shutting down and cut this reply short; send it again",
    }
    assert closed.is_set()
