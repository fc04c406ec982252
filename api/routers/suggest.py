"""``POST /v1/suggest``: agent assist."""

from fastapi import APIRouter

from api.deps import AssistantDep, PartnerDep, SessionDep
from api.errors import ERROR_RESPONSES, MODEL_RESPONSES
from api.schemas.suggest import SuggestCreate, SuggestPublic
from api.turns import history

router = APIRouter(prefix="/v1", tags=["agent assist"], responses={**ERROR_RESPONSES, **MODEL_RESPONSES})


@router.post("/suggest", summary="Suggest replies to a human agent")
def suggest(
    body: SuggestCreate, caller: PartnerDep, session: SessionDep, assistant: AssistantDep
) -> SuggestPublic:
    """Up to `n` distinct replies with citations, and the customer's intent, for the agent to pick or edit.

    The conversation is the `messages` sent, or the stored turns of `conversation_id`.
    """
    stored = history(session, caller.partner_id, body.conversation_id)  # [] without conversation_id
    return SuggestPublic.of(assistant.suggest([*stored, *body.conversation()], n=body.n))
