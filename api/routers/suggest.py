"""``POST /v1/suggest``: agent assist."""

from fastapi import APIRouter

from api.deps import AssistantDep, PartnerDep
from api.errors import ERROR_RESPONSES
from api.schemas.suggest import SuggestCreate, SuggestPublic

router = APIRouter(prefix="/v1", tags=["agent assist"], responses=ERROR_RESPONSES)


@router.post("/suggest", summary="Suggest replies to a human agent")
def suggest(body: SuggestCreate, caller: PartnerDep, assistant: AssistantDep) -> SuggestPublic:
    """Up to `n` distinct replies with citations, and the customer's intent, for the agent to pick or edit."""
    return SuggestPublic.of(assistant.suggest(body.conversation(), n=body.n))
