"""Classification metrics of a judge run: pure functions over (target, prediction) pairs."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from pytest_llmjudge.scoring.stats import f1_interval, wilson_interval
from pytest_llmjudge.settings import UnscoredPolicy

CONFIDENCE = 0.95  # level of every interval below


class Metrics(BaseModel):
    """Metrics of one (judge, dataset) run.

    Attributes:
        n: cases judged. scored / unscored: with and without a usable answer.
        coverage: scored / n.
        counted: cases in accuracy/precision/recall/F1 (n, or scored when unscored are excluded).
        tp, fp, tn, fn: the confusion matrix for the positive class.
        accuracy, precision, recall, f1: point estimates (0.0 when undefined).
        accuracy_ci, precision_ci, recall_ci: 95% Wilson intervals (over the counted cases,
            the predicted positives and the actual positives).
        f1_ci: 95% interval of F1 (stats.f1_interval: Wilson on TP / (TP + FP + FN)).
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
    precision_ci: tuple[float, float] = (0.0, 1.0)
    recall_ci: tuple[float, float] = (0.0, 1.0)
    f1_ci: tuple[float, float] = (0.0, 1.0)
    positive: int = 1
    unscored_policy: UnscoredPolicy = "wrong"

    def value(self, name: str) -> float:
        """A metric by name, as thresholds refer to it."""
        return float(getattr(self, name))

    def interval(self, name: str) -> tuple[float, float] | None:
        """The 95% interval of a metric, or None for a count or coverage (exact, no interval)."""
        value = getattr(self, f"{name}_ci", None)
        return None if value is None else (float(value[0]), float(value[1]))

    def denominator(self, name: str) -> int | None:
        """The number of cases a proportion metric is estimated from (for F1 that of TP / (TP +
        FP + FN), which its interval comes from; None for counts)."""
        return {
            "accuracy": self.counted,
            "precision": self.tp + self.fp,
            "recall": self.tp + self.fn,
            "f1": self.tp + self.fp + self.fn,
        }.get(name)


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
        accuracy_ci=wilson_interval(correct, len(counted), CONFIDENCE),
        precision_ci=wilson_interval(tp, tp + fp, CONFIDENCE),
        recall_ci=wilson_interval(tp, tp + fn, CONFIDENCE),
        f1_ci=f1_interval(tp, fp, fn, CONFIDENCE),
        positive=positive,
        unscored_policy=unscored,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0
