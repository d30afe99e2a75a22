"""JUnit XML properties of cases and runs (no pytest).

With `--junitxml`, each case item carries `llmjudge.*` properties (judge, dataset, case id,
target, prediction, reason, error), and the test suite carries each run's metrics, named
`llmjudge.<judge>.<dataset>.<metric>` (prefixed with the test when two runs of one judge on one
dataset would collide), so CI systems that read JUnit XML show them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

PREFIX = "llmjudge"
RUN_METRICS = ("n", "unscored", "coverage", "accuracy", "precision", "recall", "f1")
INTERVALS = ("accuracy", "precision", "recall", "f1")
MAX_TEXT = 2000  # reasons longer than this are clipped in the XML


def case_properties(
    judge: str,
    dataset: str,
    case_id: str,
    target: int,
    prediction: int | None,
    reason: str,
    error: str | None,
) -> list[tuple[str, str]]:
    """The properties of one case item (an unscored case has prediction 'unscored')."""
    props = [
        (f"{PREFIX}.judge", judge),
        (f"{PREFIX}.dataset", dataset),
        (f"{PREFIX}.case", case_id),
        (f"{PREFIX}.target", str(target)),
        (f"{PREFIX}.prediction", "unscored" if prediction is None else str(prediction)),
        (f"{PREFIX}.correct", str(prediction == target).lower()),
        (f"{PREFIX}.reason", _clip(reason)),
    ]
    if error:
        props.append((f"{PREFIX}.error", _clip(error)))
    return props


def run_properties(report: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Test-suite properties of every run in a JSON report (see report.report_dict)."""
    runs = list(report.get("runs") or [])
    seen = Counter((r.get("judge"), r.get("dataset")) for r in runs)
    for run in runs:
        name = f"{run.get('judge')}.{run.get('dataset')}"
        if seen[(run.get("judge"), run.get("dataset"))] > 1:
            name = f"{run.get('test')}.{name}"
        base = f"{PREFIX}.{name}"
        metrics = run.get("metrics") or {}
        for metric in RUN_METRICS:
            if metric in metrics:
                yield f"{base}.{metric}", _value(metrics[metric])
        for metric in INTERVALS:
            interval = metrics.get(f"{metric}_ci")
            if isinstance(interval, list | tuple) and len(interval) == 2:
                yield f"{base}.{metric}_ci", f"{_value(interval[0])},{_value(interval[1])}"
        for gate in run.get("thresholds") or []:
            limit = gate.get("value")
            shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
            state = "passed" if gate.get("passed") else "failed"
            yield f"{base}.gate.{gate.get('metric')}{gate.get('op')}{shown}", state
        comparison = run.get("comparison")
        if isinstance(comparison, Mapping) and comparison.get("verdict"):
            yield f"{base}.baseline", str(comparison["verdict"])
        yield f"{base}.passed", str(bool(run.get("passed"))).lower()
    if runs:
        yield f"{PREFIX}.passed", str(bool(report.get("passed"))).lower()


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
