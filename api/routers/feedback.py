"""``POST /v1/feedback`` and its list: ratings of assistant messages."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import KeyFirstRoute
from api.deps import PartnerConfigDep, PartnerDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.paging import Offset
from api.schemas.feedback import FeedbackCreate, FeedbackPublic, FeedbacksPublic
from naa.storage import feedback
from naa.storage.models import Rating

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1/feedback", tags=["conversations"], responses=ERROR_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Rate an assistant message")
def add_feedback(
    body: FeedbackCreate, caller: PartnerDep, config: PartnerConfigDep, session: SessionDep
) -> FeedbackPublic:
    """Thumbs up or down on an assistant message of this partner's conversations, with an optional corrected
    reply; card numbers in the text are masked as in chat messages. A customer's or agent's turn is a 422."""
    row = feedback.add_feedback(
        session,
        caller.partner_id,
        body.message_id,
        body.rating,
        comment=body.comment,
        corrected_reply=body.corrected_reply,
        guardrails=config.guardrails,
    )
    return FeedbackPublic.model_validate(row)


@router.get("", summary="List feedback")
def list_feedback(
    caller: PartnerDep,
    session: SessionDep,
    rating: Rating | None = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows to return.")] = 100,
    offset: Offset = 0,
) -> FeedbacksPublic:
    """Newest first, optionally only one rating; `offset` pages past the first `limit`."""
    rows = feedback.list_feedback(session, caller.partner_id, rating=rating, limit=limit, offset=offset)
    return FeedbacksPublic.model_validate({"feedback": rows}, from_attributes=True)
