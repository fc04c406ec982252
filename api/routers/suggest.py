"""``POST /v1/suggest``: agent assist."""

from fastapi import APIRouter

from api.auth import KeyFirstRoute
from api.deps import AssistantDep, PartnerDep, SessionDep
from api.errors import ERROR_RESPONSES, MODEL_RESPONSES
from api.schemas.suggest import SuggestCreate, SuggestPublic
from api.turns import history, release
from naa.generation.base import ChatMessage
from naa.safety.guardrails import screen_message

router = APIRouter(
    route_class=KeyFirstRoute,
    prefix="/v1",
    tags=["agent assist"],
    responses={**ERROR_RESPONSES, **MODEL_RESPONSES},
)


@router.post("/suggest", summary="Suggest replies to a human agent")
def suggest(
    body: SuggestCreate, caller: PartnerDep, session: SessionDep, assistant: AssistantDep
) -> SuggestPublic:
    """Up to `n` distinct replies with citations, and the customer's intent, for the agent to pick or edit.

    The conversation is the `messages` sent, or the stored turns of `conversation_id`. Each turn sent is
    checked and masked as a stored turn is: a blank one, or one over the message limit, is a 422 naming it.
    """
    stored = history(session, caller.partner_id, body.conversation_id)  # [] without conversation_id
    release(session)  # up to 3 replies to write: no database connection held meanwhile
    # Each turn sent is checked as a stored one is (POST /v1/conversations/{id}/messages): unchecked, one
    # 15 MB agent turn held a CPU core for 12 s of tokenizing per suggestion.
    guardrails, limit = assistant.config.guardrails, assistant.max_message_chars
    sent = [
        ChatMessage(turn.role, screen_message(turn.content, guardrails, limit, f"messages[{i}]"))
        for i, turn in enumerate(body.conversation())
    ]
    return SuggestPublic.of(assistant.suggest([*stored, *sent], n=body.n))
