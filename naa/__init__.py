"""NAA: a customer-service neural agent assistant (intent -> retrieval -> grounded generation).

Importing ``naa`` is cheap; models load when a component's ``warm_up()`` runs.
"""

from naa.assistant import Assistant, AssistantReply
from naa.config.partner import PartnerConfig, load_partner_config
from naa.errors import NAAError
from naa.generation.base import ChatMessage, Generator
from naa.intent.base import IntentClassifier, IntentPrediction
from naa.retrieval.base import Passage, Retriever
from naa.workspace import Workspace

__all__ = [
    "Assistant",
    "AssistantReply",
    "ChatMessage",
    "Generator",
    "IntentClassifier",
    "IntentPrediction",
    "NAAError",
    "PartnerConfig",
    "Passage",
    "Retriever",
    "Workspace",
    "load_partner_config",
]
