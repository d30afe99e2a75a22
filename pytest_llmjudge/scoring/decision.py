"""Decision thresholds fit on labelled rows: the verdict is 1 when the judge's probability of
"consistent" is at least the threshold that serves a chosen metric best there."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_llmjudge.scoring.metrics import compute_metrics

# metrics a decision threshold can be fit for (higher is better, defined by the verdicts)
FIT_METRICS = ("accuracy", "balanced_accuracy", "f1", "kappa", "mcc", "precision", "recall")


@dataclass(frozen=True)
class FittedThreshold:
    """A decision threshold chosen on labelled rows: the verdict is 1 when p >= `threshold`."""

    threshold: float
    metric: str
    value: float | None  # the metric at that threshold, on the rows it was fit on
    rows: int

    def describe(self, where: str) -> str:
        shown = "n/a" if self.value is None else f"{self.value:.3f}"
        return (
            f"decision threshold {self.threshold:.2f} fit on {where} ({self.rows} rows) for "
            f"{self.metric} ({self.metric} {shown} there)"
        )


def fit_threshold(pairs: Sequence[tuple[float, int]], metric: str) -> FittedThreshold:
    """The threshold among 0.01, 0.02, ..., 0.99 that maximises `metric` on `(probability,
    target)` pairs; of equally good ones, the nearest to 0.5."""
    if metric not in FIT_METRICS:
        raise ValueError(f"cannot fit a threshold for {metric!r}; one of {', '.join(FIT_METRICS)}")
    if not pairs:
        raise ValueError("no rows to fit a threshold on")
    best: tuple[float, float, float] | None = None  # (value, -distance from 0.5, threshold)
    for step in range(1, 100):
        threshold = step / 100
        m = compute_metrics([(t, int(p >= threshold)) for p, t in pairs])
        value = m.value(metric)
        key = (value if value is not None else -math.inf, -abs(threshold - 0.5), threshold)
        if best is None or key > best:
            best = key
    assert best is not None
    value = None if best[0] == -math.inf else best[0]
    return FittedThreshold(best[2], metric, value, len(pairs))
