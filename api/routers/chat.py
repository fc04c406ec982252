"""``POST /v1/chat``: a customer turn in a stored conversation, as one JSON reply or an SSE stream."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.auth import KeyFirstRoute
from api.deps import AssistantDep, PartnerDep, SessionDep, StateDep
from api.errors import ERROR_RESPONSES, MODEL_RESPONSES, ErrorBody
from api.schemas.chat import ChatCreate, ChatPublic
from api.sse import stream_response
from api.turns import chat_history, run_turn, stream_turn

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1", tags=["chat"], responses={**ERROR_RESPONSES, **MODEL_RESPONSES}
)

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The reply; with `stream: true`, Server-Sent Events instead: `intent` (IntentPublic), "
        "`passages` ({passages}), `token` ({text}, repeated), `done` (ChatPublic), "
        "or `error` ({code, message}).",
        "content": {"text/event-stream": {"example": 'event: token\ndata: {"text": "Refunds"}\n\n'}},
    },
    409: {
        "model": ErrorBody,
        "description": "The conversation was handed to a human agent in an earlier turn (`handed_off`): add "
        "the customer's turn with POST /v1/conversations/{id}/messages instead. Or the partner is not "
        "built yet (no intent model).",
    },
}


@router.post("/chat", response_model=ChatPublic, summary="Answer a customer turn", responses=_STREAM_DOC)
def chat(
    body: ChatCreate, caller: PartnerDep, session: SessionDep, assistant: AssistantDep, state: StateDep
) -> Response | ChatPublic:
    """Classify the message, retrieve passages, generate a cited reply (or hand off); store both turns.

    After a turn that hands the conversation off (`handoff: true`), the assistant no longer answers in it:
    a later turn there is a 409 `handed_off`, and people carry on with POST /v1/conversations/{id}/messages
    (agent assist: POST /v1/suggest)."""
    if not body.stream:
        return run_turn(state.sessions, session, assistant, caller.partner_id, body, state.metrics)
    past = chat_history(session, caller.partner_id, body.conversation_id)
    return stream_response(
        stream_turn(state.sessions, past, assistant, caller.partner_id, body, state.metrics)
    )
