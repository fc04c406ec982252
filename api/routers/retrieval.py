"""``POST /v1/intents/classify`` and ``POST /v1/search``: one stage of the chain on its own."""

from fastapi import APIRouter

from api.deps import AssistantDep, PartnerDep
from api.errors import ERROR_RESPONSES
from api.schemas.assistant import IntentPublic, PassagePublic
from api.schemas.retrieval import ClassifyCreate, ClassifyPublic, SearchCreate, SearchPublic

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post("/intents/classify", tags=["intents"], summary="Classify utterances")
def classify(body: ClassifyCreate, caller: PartnerDep, assistant: AssistantDep) -> ClassifyPublic:
    """The partner's intent model on a batch of utterances: top intents with calibrated confidence."""
    return ClassifyPublic(predictions=[IntentPublic.of(p) for p in assistant.classifier.predict(body.texts)])


@router.post("/search", tags=["knowledge base"], summary="Search the knowledge base")
def search(body: SearchCreate, caller: PartnerDep, assistant: AssistantDep) -> SearchPublic:
    """Retrieval only: the passages the assistant would ground a reply in."""
    found = assistant.retriever.search([body.query], top_k=body.top_k)[0]
    return SearchPublic(passages=[PassagePublic.of(p) for p in found])
