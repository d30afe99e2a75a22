"""Thresholds checked on a point estimate or on an interval bound, and when n cannot resolve them.

Pure functions over `Metrics` and `Threshold` (no pytest). A threshold such as `accuracy>=0.95`
is checked on the point estimate by default. With gate-on `lower-bound` a lower bound
(`>=`, `>`) is checked on the lower end of the metric's 95% interval and an upper bound (`<=`,
`<`) on its upper end, so a gate passes only when the data show the bound holds. Counts and
coverage have no interval and are always checked on their value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.scoring.policies import GATE_ON_CHOICES, GateOn
from pytest_llmjudge.scoring.stats import cases_needed
from pytest_llmjudge.scoring.thresholds import Threshold

if TYPE_CHECKING:
    from pytest_llmjudge.scoring.comparison import Comparison

__all__ = ["GATE_ON_CHOICES", "GateOn", "ThresholdResult", "Unresolved", "check_thresholds"]

Basis = Literal["point", "lower bound", "upper bound"]


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold checked against a run's metrics.

    Attributes:
        threshold: the threshold.
        actual: the value it was checked on (the point estimate, or an interval bound).
        passed: whether it held.
        point: the metric's point estimate (equal to `actual` when checked on the point).
        basis: what `actual` is: "point", "lower bound" or "upper bound".
        undefined: why the metric has no value (the gate is then unresolved and not passed).
    """

    threshold: Threshold
    actual: float | None
    passed: bool
    point: float | None = None
    basis: Basis = "point"
    undefined: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The threshold as the JSON report writes it."""
        return {
            "metric": self.threshold.metric,
            "slice": self.threshold.slice,
            "op": self.threshold.op,
            "value": self.threshold.value,
            "actual": self.actual,
            "passed": self.passed,
            "point": self.point,
            "basis": self.basis,
            "undefined": self.undefined,
        }

    def checked(self) -> str:
        """'f1 = 0.800', or 'f1 lower bound = 0.712 (point 0.800)' when gated on a bound, or
        'precision = n/a (unresolved: ...)' when the metric is undefined."""
        if self.actual is None:
            return f"{self.threshold.metric} = n/a (unresolved: {self.undefined})"
        if self.basis == "point" or self.point is None:
            return f"{self.threshold.metric} = {self.actual:.3f}"
        return f"{self.threshold.metric} {self.basis} = {self.actual:.3f} (point {self.point:.3f})"


class Gated:
    """Pass or fail of a finished run (judge or generator): its thresholds and comparison gates."""

    thresholds: tuple[ThresholdResult, ...]
    comparison: Comparison | None
    comparison_error: str | None

    @property
    def nothing_scored(self) -> str | None:
        """Why the run scored no case at all (a gate of its own, whatever the thresholds)."""
        return None

    @property
    def gates_applied(self) -> bool:
        """Whether the thresholds and the comparison decide (not for a partly selected run)."""
        return True

    @property
    def failed_gates(self) -> int:
        """How many gates failed: thresholds and the comparison with the baseline as one (when
        applied), and scoring nothing as one."""
        nothing = self.nothing_scored is not None
        if not self.gates_applied:
            return int(nothing)
        compared = self.comparison_error is not None or (
            self.comparison is not None and not self.comparison.passed
        )
        return sum(not t.passed for t in self.thresholds) + compared + nothing

    @property
    def passed(self) -> bool:
        """Whether every threshold and the comparison gates passed, and something was scored."""
        return self.failed_gates == 0


def _lower_side(threshold: Threshold) -> bool:
    """Whether the threshold bounds the metric from below (>=, >)."""
    return threshold.op.startswith(">")


def check_threshold(metrics: Metrics, threshold: Threshold, gate_on: GateOn) -> ThresholdResult:
    """Check one threshold on the point estimate, or on the interval bound that matters."""
    point = metrics.value(threshold.metric)
    if point is None:
        why = metrics.undefined(threshold.metric)
        return ThresholdResult(threshold, None, False, None, "point", why)
    interval = metrics.interval(threshold.metric)
    if gate_on == "lower-bound" and interval is not None:
        basis: Basis = "lower bound" if _lower_side(threshold) else "upper bound"
        actual = interval[0] if basis == "lower bound" else interval[1]
        return ThresholdResult(threshold, actual, threshold.check(actual), point, basis)
    return ThresholdResult(threshold, point, threshold.check(point), point, "point")


def check_thresholds(
    metrics: Metrics, thresholds: tuple[Threshold, ...], judge: str, gate_on: GateOn
) -> tuple[ThresholdResult, ...]:
    """Check the thresholds that apply to `judge`."""
    return tuple(check_threshold(metrics, t, gate_on) for t in thresholds if t.applies_to(judge))


@dataclass(frozen=True)
class Unresolved:
    """A threshold the point estimate meets but the 95% interval does not: n is too small.

    Attributes:
        threshold: the threshold.
        point: the point estimate.
        interval: the metric's 95% interval.
        n: cases in the run.
        needed: about how many cases, at the observed rates, would resolve it (None: too many).
    """

    threshold: Threshold
    point: float
    interval: tuple[float, float]
    n: int
    needed: int | None

    def message(self) -> str:
        """One sentence for the summary."""
        t = self.threshold
        lo, hi = self.interval
        need = (
            f"about {self.needed} cases at this rate would be needed"
            if self.needed is not None
            else "no feasible number of cases at this rate would resolve it"
        )
        cases = f"{self.n} cases of {t.slice}" if t.slice else f"{self.n} cases"
        return (
            f"{cases} cannot show {t.metric} {t.op} {t.value:g}: the point estimate "
            f"{self.point:.3f} meets it, its 95% interval [{lo:.3f}, {hi:.3f}] does not; "
            f"{need}"
        )


def unresolved(metrics: Metrics, threshold: Threshold) -> Unresolved | None:
    """An `Unresolved` when the point estimate meets `threshold` and the interval does not."""
    interval = metrics.interval(threshold.metric)
    point = metrics.value(threshold.metric)
    if interval is None or point is None:
        return None
    bound = interval[0] if _lower_side(threshold) else interval[1]
    if not threshold.check(point) or threshold.check(bound):
        return None
    return Unresolved(threshold, point, interval, metrics.n, _needed(metrics, threshold, point))


def _needed(metrics: Metrics, threshold: Threshold, point: float) -> int | None:
    """Cases needed for the interval to clear the threshold, scaled to the whole dataset."""
    value = threshold.value
    denominator = metrics.denominator(threshold.metric)
    if not denominator or not 0.0 <= value <= 1.0:
        return None
    if threshold.metric == "f1":  # F1 = 2J / (1 + J): its interval is that of J, a proportion
        value, point = value / (2 - value), point / (2 - point)
    if _lower_side(threshold):
        needed = cases_needed(value, point)
    else:  # an upper bound on p is a lower bound on 1 - p
        needed = cases_needed(1.0 - value, 1.0 - point)
    if needed is None:
        return None
    # precision, recall and F1 are estimated from a part of the cases: scale up to all of them
    return math.ceil(needed * metrics.n / denominator)


def with_interval(point: float | None, interval: tuple[float, float] | None) -> str:
    """'0.800 [0.49, 0.94]': a point estimate and its 95% interval, for the summary table;
    'n/a' for an undefined metric."""
    if point is None:
        return "n/a"
    if interval is None:
        return f"{point:.3f}"
    return f"{point:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"


def uncertainty_lines(judge: str, dataset: str, found: list[Unresolved]) -> list[str]:
    """Summary warnings for thresholds too few cases can resolve."""
    return [f"WARNING: judge {judge} on {dataset}: {u.message()}" for u in found]
