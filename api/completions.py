"""The OpenAI chat-completions protocol over the assistant: one reply, or its stream as chunks.

The conversation is not stored: OpenAI clients send the whole history with every request. ``usage`` and
``finish_reason`` are the generator's own token counts and end reason; a fixed reply (handoff, small
talk) used no model and reports 0 tokens. A plugin generator whose stream reports no counts gets its
streamed pieces counted as completion tokens and a prompt of 0. An error once a stream has begun is its
last event, ``data: {"error": {...}}``, which OpenAI's SDKs raise as ``APIError``.
"""

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from sse_starlette import ServerSentEvent

from api.errors import log_server_error, openai_error_body, status_of
from api.metrics import Metrics
from api.schemas.assistant import CitationPublic, IntentPublic
from api.schemas.completions import (
    ChatCompletionChunk,
    ChatCompletionCreate,
    ChatCompletionPublic,
    Choice,
    ChoiceMessage,
    ChunkChoice,
    ChunkDelta,
    ModelPublic,
    NAAExtras,
    Usage,
)
from api.sse import event
from naa.assistant import Assistant, AssistantEvent, AssistantReply, DoneEvent, TokenEvent
from naa.errors import NAAError, NotFoundError

FinishReason = Literal["stop", "length"]

MODEL_ID = "naa"


def model_named(model: str, partner_id: str) -> ModelPublic:
    """The one model, ``naa`` (the API key's partner decides what answers); any other name is a 404, as
    OpenAI answers it, not a reply labelled with a model that did not write it."""
    if model != MODEL_ID:
        raise NotFoundError(
            f"model {model!r} does not exist: this server has one model, {MODEL_ID!r} (GET /v1/models)"
        )
    return ModelPublic(id=MODEL_ID, owned_by=partner_id)


class _Turn:
    """One completion request: its sampling, its events, how many pieces were streamed, and its reply."""

    def __init__(self, assistant: Assistant, request: ChatCompletionCreate) -> None:
        self.request = request
        self.params = request.sampling(assistant.config.sampling_defaults())
        self.events = assistant.respond_stream(request.conversation(), self.params)
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.pieces = 0
        self.reply: AssistantReply | None = None

    @property
    def finish_reason(self) -> FinishReason:
        counted = self.reply.usage if self.reply else None
        if counted is not None:
            return counted.finish_reason
        # Pieces hold a token or more each: that many pieces means the token budget cut the reply.
        return "length" if self.pieces >= self.params.max_new_tokens else "stop"

    def usage(self) -> Usage:
        counted = self.reply.usage if self.reply else None
        if counted is None:
            return Usage(prompt_tokens=0, completion_tokens=self.pieces, total_tokens=self.pieces)
        return Usage(
            prompt_tokens=counted.prompt_tokens,
            completion_tokens=counted.completion_tokens,
            total_tokens=counted.prompt_tokens + counted.completion_tokens,
        )


def _extras(reply: AssistantReply) -> NAAExtras:
    citations = [CitationPublic.of(c) for c in reply.citations]
    return NAAExtras(
        intent=IntentPublic.of(reply.intent), citations=citations, handoff=reply.handoff, action=reply.action
    )


def complete(assistant: Assistant, request: ChatCompletionCreate, metrics: Metrics) -> ChatCompletionPublic:
    turn = _Turn(assistant, request)
    for item in turn.events:
        if isinstance(item, TokenEvent):
            turn.pieces += 1
        elif isinstance(item, DoneEvent):
            turn.reply = item.reply
    if turn.reply is None:
        raise AssertionError("respond_stream ended without a DoneEvent")
    reply = turn.reply
    metrics.observe_stages(reply.timings_ms)
    return ChatCompletionPublic(
        id=turn.id,
        created=turn.created,
        model=request.model,
        choices=[Choice(message=ChoiceMessage(content=reply.reply), finish_reason=turn.finish_reason)],
        usage=turn.usage(),
        naa=_extras(reply),
    )


def stream_completion(
    assistant: Assistant, request: ChatCompletionCreate, metrics: Metrics
) -> Iterator[ServerSentEvent]:
    """Run the turn up to its first reply text now, then stream OpenAI chunks.

    Errors until then (bad input, a prompt the model cannot hold, a model that does not load) are still a
    4xx or 5xx status: OpenAI clients read no error event once a stream has begun.
    """
    turn = _Turn(assistant, request)
    head: list[AssistantEvent] = []
    for item in turn.events:
        head.append(item)
        if isinstance(item, TokenEvent | DoneEvent):
            break
    return _chunks(turn, itertools.chain(head, turn.events), metrics)


def _chunks(turn: _Turn, events: Iterator[AssistantEvent], metrics: Metrics) -> Iterator[ServerSentEvent]:
    def chunk(
        delta: ChunkDelta, finish_reason: FinishReason | None = None, extras: NAAExtras | None = None
    ) -> ServerSentEvent:
        choice = ChunkChoice(delta=delta, finish_reason=finish_reason)
        return event(
            None,
            ChatCompletionChunk(
                id=turn.id, created=turn.created, model=turn.request.model, choices=[choice], naa=extras
            ),
        )

    yield chunk(ChunkDelta(role="assistant", content=""))
    try:
        for item in events:
            if isinstance(item, TokenEvent):
                turn.pieces += 1
                yield chunk(ChunkDelta(content=item.text))
            elif isinstance(item, DoneEvent):
                turn.reply = item.reply
                metrics.observe_stages(item.reply.timings_ms)
    except NAAError as err:
        log_server_error(err, "a streamed completion")
        # OpenAI's SDKs raise an `error` in a chunk's data; the named `error` event of /v1/chat reached
        # them as a chunk without choices.
        yield event(None, openai_error_body(status_of(err), err.code, str(err)))
        return
    yield chunk(ChunkDelta(), turn.finish_reason, _extras(turn.reply) if turn.reply else None)
    options = turn.request.stream_options
    if options is not None and options.include_usage:
        last = ChatCompletionChunk(
            id=turn.id, created=turn.created, model=turn.request.model, choices=[], usage=turn.usage()
        )
        yield event(None, last)
    yield ServerSentEvent(data="[DONE]")
