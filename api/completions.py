"""The OpenAI chat-completions protocol over the assistant: one reply, or its stream as chunks.

The conversation is not stored: OpenAI clients send the whole history with every request. Token counts
are the generator's streamed pieces (one token each for the transformers backend); the prompt's own size
is not known at this layer and is reported as 0.
"""

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from sse_starlette import ServerSentEvent

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
    NAAExtras,
    Usage,
)
from api.sse import event
from naa.assistant import Assistant, AssistantEvent, AssistantReply, DoneEvent, TokenEvent

FinishReason = Literal["stop", "length"]


class _Turn:
    """One completion request: its sampling, its events, and how many pieces were streamed."""

    def __init__(self, assistant: Assistant, request: ChatCompletionCreate) -> None:
        self.request = request
        self.params = request.sampling(assistant.config.sampling_defaults())
        self.events = assistant.respond_stream(request.conversation(), self.params)
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.pieces = 0

    @property
    def finish_reason(self) -> FinishReason:
        # A reply as long as the token budget was cut by it, as OpenAI's "length" says.
        return "length" if self.pieces >= self.params.max_new_tokens else "stop"


def _extras(reply: AssistantReply) -> NAAExtras:
    citations = [CitationPublic.of(c) for c in reply.citations]
    return NAAExtras(
        intent=IntentPublic.of(reply.intent), citations=citations, handoff=reply.handoff, action=reply.action
    )


def complete(assistant: Assistant, request: ChatCompletionCreate, metrics: Metrics) -> ChatCompletionPublic:
    turn = _Turn(assistant, request)
    replies = []
    for item in turn.events:
        if isinstance(item, TokenEvent):
            turn.pieces += 1
        elif isinstance(item, DoneEvent):
            replies.append(item.reply)
    reply = replies[-1]
    metrics.observe_stages(reply.timings_ms)
    return ChatCompletionPublic(
        id=turn.id,
        created=turn.created,
        model=request.model,
        choices=[Choice(message=ChoiceMessage(content=reply.reply), finish_reason=turn.finish_reason)],
        usage=Usage(prompt_tokens=0, completion_tokens=turn.pieces, total_tokens=turn.pieces),
        naa=_extras(reply),
    )


def stream_completion(
    assistant: Assistant, request: ChatCompletionCreate, metrics: Metrics
) -> Iterator[ServerSentEvent]:
    """Start the turn now (input errors raise while a 4xx can be sent), then stream OpenAI chunks."""
    turn = _Turn(assistant, request)
    first = next(turn.events)
    return _chunks(turn, itertools.chain([first], turn.events), metrics)


def _chunks(turn: _Turn, events: Iterator[AssistantEvent], metrics: Metrics) -> Iterator[ServerSentEvent]:
    def chunk(delta: ChunkDelta, finish_reason: FinishReason | None = None) -> ServerSentEvent:
        choice = ChunkChoice(delta=delta, finish_reason=finish_reason)
        return event(
            None,
            ChatCompletionChunk(id=turn.id, created=turn.created, model=turn.request.model, choices=[choice]),
        )

    yield chunk(ChunkDelta(role="assistant", content=""))
    for item in events:
        if isinstance(item, TokenEvent):
            turn.pieces += 1
            yield chunk(ChunkDelta(content=item.text))
        elif isinstance(item, DoneEvent):
            metrics.observe_stages(item.reply.timings_ms)
    yield chunk(ChunkDelta(), turn.finish_reason)
    options = turn.request.stream_options
    if options is not None and options.include_usage:
        usage = Usage(prompt_tokens=0, completion_tokens=turn.pieces, total_tokens=turn.pieces)
        last = ChatCompletionChunk(
            id=turn.id, created=turn.created, model=turn.request.model, choices=[], usage=usage
        )
        yield event(None, last)
    yield ServerSentEvent(data="[DONE]")
