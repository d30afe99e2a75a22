"""Metric thresholds such as "f1>=0.8" or "prompted:accuracy>0.7", and baseline tolerances
such as "f1=0.03"."""

from __future__ import annotations

import argparse
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pytest_llmjudge.errors import ConfigError, unknown

JUDGE_METRICS = ("accuracy", "precision", "recall", "f1", "coverage", "unscored", "scored", "n") + (
    "kappa",
    "mcc",
    "balanced_accuracy",
    "specificity",
    "npv",
    "flaky",
    "self_consistency",
    "brier",
    "ece",
)
# metrics of a generator run (generation/metrics.py); "hallucination_rate<=0.1" gates from above
GENERATOR_METRICS = (
    "hallucination_rate",
    "hallucination_rate_corrected",
    "faithfulness",
    "relevancy",
    "answer_words",
    "answer_tokens",
    "flaky",
    "self_consistency",
    "coverage",
    "unscored",
    "scored",
    "n",
)
METRICS = tuple(dict.fromkeys(JUDGE_METRICS + GENERATOR_METRICS))
# metrics that are shares of the cases: a bound on them lies between 0 and 1
RATE_METRICS = frozenset(
    ("accuracy", "precision", "recall", "f1", "coverage")
    + ("balanced_accuracy", "specificity", "npv")
    + ("hallucination_rate", "hallucination_rate_corrected", "faithfulness", "relevancy")
    + ("flaky", "self_consistency", "brier", "ece")
)
# metrics a candidate is compared on against its baseline (comparison.py)
DELTA_METRICS = ("accuracy", "precision", "recall", "f1", "coverage")
DEFAULT_TOLERANCE_METRIC = "accuracy"
_TOLERANCE = re.compile(r"^\s*(?:(?P<metric>[a-z0-9_]+)\s*=\s*)?(?P<value>[0-9]*\.?[0-9]+)\s*$")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_PATTERN = re.compile(
    r"^\s*(?:(?P<judge>[A-Za-z0-9_.+-]+)\s*:\s*)?"
    r"(?:(?P<field>[A-Za-z0-9_.-]+)\s*=\s*(?P<value_of>[^:<>=]*[^:<>=\s])\s*:\s*)?"
    r"(?P<metric>[a-z_][a-z0-9_]*)\s*(?P<op>>=|<=|>|<)\s*(?P<value>[0-9]*\.?[0-9]+)\s*$"
)


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric, optionally for one judge only, optionally on one slice of the
    cases (`slice`: "source=news", see Dataset(slice_by=))."""

    metric: str
    op: str
    value: float
    judge: str | None = None
    slice: str | None = None

    def __str__(self) -> str:
        scope = f"{self.judge}:" if self.judge else ""
        part = f"{self.slice}:" if self.slice else ""
        return f"{scope}{part}{self.metric}{self.op}{self.value:g}"

    @property
    def slice_field(self) -> str | None:
        """The dataset field of the slice a threshold targets ("source" of "source=news")."""
        return self.slice.split("=", 1)[0] if self.slice else None

    def applies_to(self, judge: str) -> bool:
        """Whether this threshold gates runs of `judge`."""
        return self.judge is None or self.judge == judge

    def check(self, actual: float) -> bool:
        """Whether `actual` meets the threshold."""
        return _OPS[self.op](actual, self.value)


def parse_threshold(text: str) -> Threshold:
    """Parse "metric>=value", "judge:metric>=value", "source=news:recall>=0.8" (a slice) or
    "judge:source=news:recall>=0.8"; raises ArgumentTypeError when invalid."""
    match = _PATTERN.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid threshold {text!r}: expected e.g. 'f1>=0.8', 'judge-name:accuracy>0.7' "
            "or 'source=news:recall>=0.8' (a slice)"
        )
    metric, value = match["metric"], float(match["value"])
    if metric not in METRICS:
        raise argparse.ArgumentTypeError(
            f"invalid threshold {text!r}: {unknown('metric', metric, METRICS)}"
        )
    if metric in RATE_METRICS and value > 1:
        raise argparse.ArgumentTypeError(
            f"invalid threshold {text!r}: {metric} is a rate between 0 and 1, not {value:g} "
            f"(for {value:g}% write {value / 100:g})"
        )
    part = f"{match['field']}={match['value_of']}" if match["field"] else None
    return Threshold(metric, match["op"], value, judge=match["judge"], slice=part)


def check_scopes(thresholds: Iterable[Threshold], known: Iterable[str], where: str) -> None:
    """Raise ConfigError when a threshold is scoped to a judge (or generator) not in `known`."""
    names = set(known)
    for threshold in thresholds:
        if threshold.judge is not None and threshold.judge not in names:
            raise ConfigError(
                f"{where}: threshold {threshold} names no judge or generator of the run: "
                + unknown("name", threshold.judge, names)
            )


def check_slices(thresholds: Iterable[Threshold], fields: Iterable[str], where: str) -> None:
    """Raise ConfigError when a threshold targets a slice by a key no dataset slices by."""
    known = set(fields)
    for threshold in thresholds:
        field = threshold.slice_field
        if field is not None and field not in known:
            hint = unknown("key", field, known) if known else "no dataset sets slice_by="
            raise ConfigError(
                f"{where}: threshold {threshold} targets a slice by {field!r}: {hint}"
            )


def thresholds_from(
    spec: Iterable[str | Threshold] | Mapping[str, float] | None,
) -> tuple[Threshold, ...]:
    """Thresholds from a list of strings (or Thresholds) or a {metric: minimum} mapping."""
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        return tuple(parse_threshold(f"{metric}>={value}") for metric, value in spec.items())
    if isinstance(spec, str):
        return (parse_threshold(spec),)
    return tuple(item if isinstance(item, Threshold) else parse_threshold(item) for item in spec)


def merge(*layers: Iterable[Threshold]) -> tuple[Threshold, ...]:
    """Combine threshold layers; later ones replace earlier ones on the same judge, slice,
    metric and side."""
    merged: dict[tuple[str | None, str | None, str, str], Threshold] = {}
    for layer in layers:
        for t in layer:
            merged[(t.judge, t.slice, t.metric, t.op[0])] = t
    return tuple(merged.values())


@dataclass(frozen=True)
class Tolerance:
    """How much a metric may drop below the baseline before the regression gate fails."""

    metric: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric}={self.value:g}"


def parse_tolerance(text: str) -> Tolerance:
    """Parse "0.02" (on accuracy) or "f1=0.03"; raises ArgumentTypeError when invalid."""
    match = _TOLERANCE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid tolerance {text!r}: expected e.g. '0.02' (accuracy) or 'f1=0.03'"
        )
    metric = match["metric"] or DEFAULT_TOLERANCE_METRIC
    if metric not in DELTA_METRICS:
        raise argparse.ArgumentTypeError(
            f"invalid tolerance {text!r}: unknown metric {metric!r} "
            f"(one of {', '.join(DELTA_METRICS)})"
        )
    value = float(match["value"])
    if value > 1:
        raise argparse.ArgumentTypeError(f"invalid tolerance {text!r}: must be between 0 and 1")
    return Tolerance(metric, value)


def merge_tolerances(*layers: Iterable[Tolerance]) -> tuple[Tolerance, ...]:
    """Combine layers of tolerances; a later layer replaces an earlier one on the same metric."""
    merged: dict[str, Tolerance] = {}
    for layer in layers:
        for tolerance in layer:
            merged[tolerance.metric] = tolerance
    return tuple(merged.values())
