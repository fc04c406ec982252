"""``POST /v1/intents/classify`` and ``POST /v1/search``: one stage of the chain on its own."""

from fastapi import APIRouter

from api.auth import KeyFirstRoute
from api.deps import AssistantDep, PartnerDep
from api.errors import ERROR_RESPONSES, MODEL_RESPONSES
from api.schemas.assistant import IntentPublic, PassagePublic
from api.schemas.retrieval import ClassifyCreate, ClassifyPublic, SearchCreate, SearchPublic
from naa.safety.guardrails import screen_message

router = APIRouter(route_class=KeyFirstRoute, prefix="/v1", responses={**ERROR_RESPONSES, **MODEL_RESPONSES})


@router.post("/intents/classify", tags=["intents"], summary="Classify utterances")
def classify(body: ClassifyCreate, caller: PartnerDep, assistant: AssistantDep) -> ClassifyPublic:
    """The partner's intent model on a batch of utterances: top intents with calibrated confidence.

    Each text is checked and masked as a /v1/chat message is: a blank one, or one over the message limit,
    is a 422 naming it."""
    # Unchecked, a blank text got an intent, and a megabyte one held a CPU core for seconds.
    guardrails, limit = assistant.config.guardrails, assistant.max_message_chars
    texts = [screen_message(text, guardrails, limit, f"texts[{i}]") for i, text in enumerate(body.texts)]
    return ClassifyPublic(predictions=[IntentPublic.of(p) for p in assistant.classifier.predict(texts)])


@router.post("/search", tags=["knowledge base"], summary="Search the knowledge base")
def search(body: SearchCreate, caller: PartnerDep, assistant: AssistantDep) -> SearchPublic:
    """Retrieval only: the passages the assistant would ground a reply in, for the query checked and masked
    as a /v1/chat message is."""
    query = screen_message(body.query, assistant.config.guardrails, assistant.max_message_chars, "query")
    found = assistant.retriever.search([query], top_k=body.top_k)[0]
    return SearchPublic(passages=[PassagePublic.of(p) for p in found])
