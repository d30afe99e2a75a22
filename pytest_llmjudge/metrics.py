"""Classification metrics of a judge run: pure functions over (target, prediction) pairs."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from .settings import UnscoredPolicy
from .stats import wilson_interval


class Metrics(BaseModel):
    """Metrics of one (judge, dataset) run.

    Attributes:
        n: cases judged. scored / unscored: with and without a usable answer.
        coverage: scored / n.
        counted: cases in accuracy/precision/recall/F1 (n, or scored when unscored are excluded).
        tp, fp, tn, fn: the confusion matrix for the positive class.
        accuracy, precision, recall, f1: point estimates (0.0 when undefined).
        accuracy_ci: 95% Wilson interval of accuracy.
        positive: the positive class; unscored_policy: how unscored cases were counted.
    """

    n: int
    scored: int
    unscored: int
    coverage: float
    counted: int
    tp: int
    fp: int
    tn: int
    fn: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    accuracy_ci: tuple[float, float]
    positive: int = 1
    unscored_policy: UnscoredPolicy = "wrong"

    def value(self, name: str) -> float:
        """A metric by name, as thresholds refer to it."""
        return float(getattr(self, name))


def effective_prediction(target: int, prediction: int | None, positive: int = 1) -> int:
    """The label an unscored case counts as when wrong: FN for a positive target, else FP."""
    if prediction is not None:
        return prediction
    return 1 - positive if target == positive else positive


def compute_metrics(
    pairs: Sequence[tuple[int, int | None]],
    positive: int = 1,
    unscored: UnscoredPolicy = "wrong",
) -> Metrics:
    """Metrics of (target, prediction-or-None) pairs."""
    n = len(pairs)
    n_unscored = sum(1 for _, p in pairs if p is None)
    if unscored == "exclude":
        counted = [(t, p) for t, p in pairs if p is not None]
    else:
        counted = [(t, effective_prediction(t, p, positive)) for t, p in pairs]
    tp = sum(1 for t, p in counted if t == positive and p == positive)
    fp = sum(1 for t, p in counted if t != positive and p == positive)
    fn = sum(1 for t, p in counted if t == positive and p != positive)
    tn = len(counted) - tp - fp - fn
    correct = tp + tn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return Metrics(
        n=n,
        scored=n - n_unscored,
        unscored=n_unscored,
        coverage=_ratio(n - n_unscored, n),
        counted=len(counted),
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        accuracy=_ratio(correct, len(counted)),
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall),
        accuracy_ci=wilson_interval(correct, len(counted)),
        positive=positive,
        unscored_policy=unscored,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0
