"""What an intent classifier takes and returns."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class IntentScore:
    label: str
    confidence: float  # calibrated probability, 0..1


@dataclass(frozen=True)
class IntentPrediction:
    label: str  # the top intent, or OUT_OF_SCOPE
    confidence: float  # calibrated probability of the top in-scope intent, 0..1
    out_of_scope: bool  # confidence under the partner's threshold, or the query is outside every intent
    top: tuple[IntentScore, ...] = field(default=())  # best in-scope intents first


class IntentClassifier(Protocol):
    """Turns customer utterances into intents; backends and plugins satisfy it structurally."""

    def warm_up(self) -> None: ...

    def predict(self, utterances: Sequence[str]) -> list[IntentPrediction]: ...
