"""``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI protocol, for existing chat clients."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.auth import KeyFirstRoute
from api.completions import MODEL_ID, complete, model_named, stream_completion
from api.deps import AssistantDep, PartnerDep, StateDep
from api.errors import OPENAI_ERROR_RESPONSES, OPENAI_TAG
from api.schemas.completions import ChatCompletionCreate, ChatCompletionPublic, ModelPublic, ModelsPublic
from api.sse import stream_response

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1", tags=[OPENAI_TAG], responses=OPENAI_ERROR_RESPONSES
)

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat.completion; with `stream: true`, `data: {chat.completion.chunk}` events, "
        "then `data: [DONE]`.",
        "content": {
            "text/event-stream": {"example": 'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'}
        },
    }
}


@router.post(
    "/chat/completions",
    response_model=ChatCompletionPublic,
    summary="OpenAI chat completion",
    responses=_STREAM_DOC,
)
def chat_completions(
    body: ChatCompletionCreate, caller: PartnerDep, assistant: AssistantDep, state: StateDep
) -> Response | ChatCompletionPublic:
    """Answer the last user message of `messages` with the partner's assistant; nothing is stored."""
    model_named(body.model, caller.partner_id)
    if body.stream:
        return stream_response(stream_completion(assistant, body, state.metrics))
    return complete(assistant, body, state.metrics)


@router.get("/models", summary="List models (OpenAI)")
def models(caller: PartnerDep) -> ModelsPublic:
    """The one model a key can use: its partner's assistant, named `naa`."""
    return ModelsPublic(data=[model_named(MODEL_ID, caller.partner_id)])


@router.get("/models/{model:path}", summary="Retrieve a model (OpenAI)")
def retrieve_model(model: str, caller: PartnerDep) -> ModelPublic:
    """The model `naa`; any other id is a 404."""
    return model_named(model, caller.partner_id)
