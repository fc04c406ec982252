"""``POST /v1/chat/completions``: the OpenAI chat-completions shape, so existing chat clients work.

Requests ignore OpenAI fields NAA has no use for (``frequency_penalty``, ``seed``, ``user``...), as other
compatible servers do, instead of refusing clients that always send them. Fields that ask for a reply NAA
cannot give (JSON output, a forced tool call, log probabilities, several choices) are refused instead: the
client would read a plain reply as broken JSON or a missing tool call. Replies carry the usual fields plus
``naa`` (intent, citations, handoff; on the last chunk of a stream), which OpenAI clients keep as an extra
attribute.
"""

from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.assistant import CitationPublic, IntentPublic
from api.schemas.request import RequestBody
from naa.generation.base import ChatMessage, SamplingParams

# "" stopped every reply at its first token; the longest bounds the text searched for stops after each piece.
StopString = Annotated[str, Field(min_length=1, max_length=200)]

# An earlier user or assistant turn longer than this is refused. Longer than any reply of the largest
# max_tokens (8,192 tokens, about 4 characters each), and no prompt holds it: the history turns that do not
# fit are dropped, but only after tokenizing them, which took 20 s of a CPU core for one 15 MB turn.
MAX_HISTORY_TURN_CHARS = 65_536


class ContentPart(BaseModel):
    """One part of a message's content as newer OpenAI clients send it; NAA reads the text parts."""

    type: str
    text: str | None = None


class CompletionMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ResponseFormat(BaseModel):
    type: Literal["text"] = Field(
        "text", description="Only `text`: replies are prose grounded in the help center, never JSON."
    )


class StreamOptions(BaseModel):
    include_usage: bool = Field(
        False, strict=True, description="Send a last chunk with token counts and no choices."
    )


class ChatCompletionCreate(RequestBody):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "model": "naa",
                    "messages": [{"role": "user", "content": "How long does a refund take?"}],
                    "max_tokens": 128,
                    "stream": False,
                }
            ]
        },
    )

    model: str = Field(
        "naa", description="`naa`, the one model (GET /v1/models); the partner of the API key decides it."
    )
    messages: list[CompletionMessage] = Field(..., min_length=1, max_length=200)
    # strict: pydantic's lax mode would read `true` as 1 and `"0.5"` as 0.5 where OpenAI refuses both.
    # Every OpenAI field below may also be null (its default), as in OpenAI's API.
    stream: bool | None = Field(False, strict=True)
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=8192, strict=True)
    max_completion_tokens: int | None = Field(
        None, ge=1, le=8192, strict=True, description="Newer name of max_tokens."
    )
    temperature: float | None = Field(None, ge=0, le=2, strict=True)
    top_p: float | None = Field(None, gt=0, le=1, strict=True)
    # The length limits belong to the list: on the union they held a single stop string to 4 characters.
    stop: StopString | Annotated[list[StopString], Field(min_length=1, max_length=4)] | None = Field(
        None, description="A stop string or up to four, none empty."
    )
    n: int | None = Field(1, ge=1, le=1, strict=True, description="Only one choice is generated.")
    response_format: ResponseFormat | None = None
    tool_choice: Literal["none", "auto"] | None = Field(
        None, description="NAA calls no tools: `required` or a named function is refused."
    )
    logprobs: Literal[False] | None = Field(None, description="Replies carry no log probabilities.")

    @field_validator("messages")
    @classmethod
    def _history_turns_fit_a_prompt(cls, messages: list[CompletionMessage]) -> list[CompletionMessage]:
        # The last message is the customer's, checked against the partner's message limit by the assistant.
        for index, message in enumerate(messages[:-1]):
            size = len(message.text())
            if message.role in ("user", "assistant") and size > MAX_HISTORY_TURN_CHARS:
                raise ValueError(
                    f"messages[{index}] has {size} characters; an earlier turn may have at most "
                    f"{MAX_HISTORY_TURN_CHARS}: leave out or shorten the old turns"
                )
        return messages

    def conversation(self) -> list[ChatMessage]:
        """User and assistant turns; the client's system and tool messages are dropped, because the
        partner's own system prompt and retrieved passages decide how the assistant answers."""
        return [ChatMessage(m.role, m.text()) for m in self.messages if m.role in ("user", "assistant")]

    def sampling(self, defaults: SamplingParams) -> SamplingParams:
        """The partner's sampling, overridden by whichever OpenAI fields the request sets."""
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return replace(
            defaults,
            max_new_tokens=self.max_completion_tokens or self.max_tokens or defaults.max_new_tokens,
            temperature=defaults.temperature if self.temperature is None else self.temperature,
            top_p=self.top_p or defaults.top_p,
            stop=defaults.stop if stop is None else tuple(stop),
        )


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: Literal["stop", "length"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class NAAExtras(BaseModel):
    intent: IntentPublic
    citations: list[CitationPublic]
    handoff: bool
    action: str


class ChatCompletionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "chatcmpl-5f1c0e",
                    "object": "chat.completion",
                    "created": 1764230400,
                    "model": "naa",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "Refunds take 5 business days [1]."},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 412, "completion_tokens": 9, "total_tokens": 421},
                }
            ]
        }
    )

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    naa: NAAExtras | None = Field(None, description="NAA's own fields: intent, citations, handoff.")


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop", "length"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    naa: NAAExtras | None = Field(None, description="On the chunk with the finish_reason only.")


class ModelPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "naa", "object": "model", "created": 0, "owned_by": "acme"}]}
    )

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelsPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "list",
                    "data": [{"id": "naa", "object": "model", "created": 0, "owned_by": "acme"}],
                }
            ]
        }
    )

    object: Literal["list"] = "list"
    data: list[ModelPublic]
