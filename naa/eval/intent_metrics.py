"""Intent-classification metrics, computed by scikit-learn where it has them.

Two views of the same predictions: the ranking view (was the top intent right, ignoring the
out-of-scope decision; the usual Banking77 figure) and the deployed view (CLINC150's in-scope accuracy:
right label *and* not rejected; out-of-scope recall: share of out-of-scope queries rejected).
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sklearn.metrics import accuracy_score, f1_score

from naa.intent.base import OUT_OF_SCOPE, IntentPrediction


@dataclass(frozen=True)
class IntentMetrics:
    """Scores of one evaluation; the out-of-scope figures are None when the gold set has no such query."""

    accuracy: float  # top intent right, in-scope queries only, rejection ignored
    macro_f1: float  # over in-scope intents, rejection ignored
    in_scope_accuracy: float  # top intent right and not rejected, in-scope queries only
    oos_recall: float | None  # out-of-scope queries that were rejected
    oos_precision: float | None  # rejected queries that were out of scope
    n_in_scope: int
    n_out_of_scope: int

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def intent_metrics(gold: Sequence[str], predictions: Sequence[IntentPrediction]) -> IntentMetrics:
    """Score predictions against gold intents, where ``OUT_OF_SCOPE`` marks out-of-scope queries.

    Raises:
        ValueError: the two sequences differ in length or hold no in-scope query.
    """
    if len(gold) != len(predictions):
        raise ValueError(f"{len(gold)} gold labels but {len(predictions)} predictions")
    in_scope = [i for i, label in enumerate(gold) if label != OUT_OF_SCOPE]
    if not in_scope:
        raise ValueError("intent metrics need at least one in-scope query")
    gold_in = [gold[i] for i in in_scope]
    top_in = [_top_intent(predictions[i]) for i in in_scope]
    deployed_in = [OUT_OF_SCOPE if predictions[i].out_of_scope else top_in[k] for k, i in enumerate(in_scope)]
    rejected = [p.out_of_scope for p in predictions]
    is_oos = [label == OUT_OF_SCOPE for label in gold]
    n_oos = sum(is_oos)
    return IntentMetrics(
        accuracy=float(accuracy_score(gold_in, top_in)),
        macro_f1=float(
            f1_score(gold_in, top_in, labels=sorted(set(gold_in)), average="macro", zero_division=0)
        ),
        in_scope_accuracy=float(accuracy_score(gold_in, deployed_in)),
        oos_recall=_recall(is_oos, rejected) if n_oos else None,
        oos_precision=_precision(is_oos, rejected) if n_oos else None,
        n_in_scope=len(in_scope),
        n_out_of_scope=n_oos,
    )


def _top_intent(prediction: IntentPrediction) -> str:
    """The best in-scope intent, whether or not the classifier rejected the query."""
    return prediction.top[0].label if prediction.top else prediction.label


def _recall(truth: list[bool], flagged: list[bool]) -> float:
    hits = sum(t and f for t, f in zip(truth, flagged, strict=True))
    return hits / max(1, sum(truth))


def _precision(truth: list[bool], flagged: list[bool]) -> float:
    hits = sum(t and f for t, f in zip(truth, flagged, strict=True))
    return hits / sum(flagged) if any(flagged) else 0.0
