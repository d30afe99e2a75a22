"""Metric thresholds such as "f1>=0.8" or "prompted:accuracy>0.7"."""

from __future__ import annotations

import argparse
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

JUDGE_METRICS = ("accuracy", "precision", "recall", "f1", "coverage", "unscored", "scored", "n")
# metrics of a generator run (generation/metrics.py); "hallucination_rate<=0.1" gates from above
GENERATOR_METRICS = (
    "hallucination_rate",
    "faithfulness",
    "relevancy",
    "answer_words",
    "answer_tokens",
    "coverage",
    "unscored",
    "scored",
    "n",
)
METRICS = tuple(dict.fromkeys(JUDGE_METRICS + GENERATOR_METRICS))
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_PATTERN = re.compile(
    r"^\s*(?:(?P<judge>[A-Za-z0-9_.+-]+)\s*:\s*)?(?P<metric>[a-z_][a-z0-9_]*)\s*"
    r"(?P<op>>=|<=|>|<)\s*(?P<value>[0-9]*\.?[0-9]+)\s*$"
)


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric, optionally for one judge only."""

    metric: str
    op: str
    value: float
    judge: str | None = None

    def __str__(self) -> str:
        scope = f"{self.judge}:" if self.judge else ""
        return f"{scope}{self.metric}{self.op}{self.value:g}"

    def applies_to(self, judge: str) -> bool:
        """Whether this threshold gates runs of `judge`."""
        return self.judge is None or self.judge == judge

    def check(self, actual: float) -> bool:
        """Whether `actual` meets the threshold."""
        return _OPS[self.op](actual, self.value)


def parse_threshold(text: str) -> Threshold:
    """Parse "metric>=value" or "judge:metric>=value"; raises ArgumentTypeError when invalid."""
    match = _PATTERN.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid threshold {text!r}: expected e.g. 'f1>=0.8' or 'judge-name:accuracy>0.7'"
        )
    metric = match["metric"]
    if metric not in METRICS:
        raise argparse.ArgumentTypeError(
            f"invalid threshold {text!r}: unknown metric {metric!r} (one of {', '.join(METRICS)})"
        )
    return Threshold(
        metric=metric, op=match["op"], value=float(match["value"]), judge=match["judge"]
    )


def thresholds_from(spec: Iterable[str] | Mapping[str, float] | None) -> tuple[Threshold, ...]:
    """Thresholds from a list of strings or a {metric: minimum} mapping (as markers take them)."""
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        return tuple(parse_threshold(f"{metric}>={value}") for metric, value in spec.items())
    if isinstance(spec, str):
        return (parse_threshold(spec),)
    return tuple(parse_threshold(item) for item in spec)


def merge(*layers: Iterable[Threshold]) -> tuple[Threshold, ...]:
    """Combine threshold layers; later ones replace earlier ones on the same judge, metric, side."""
    merged: dict[tuple[str | None, str, str], Threshold] = {}
    for layer in layers:
        for threshold in layer:
            merged[(threshold.judge, threshold.metric, threshold.op[0])] = threshold
    return tuple(merged.values())
