"""Text rules shared by the outputs built from the JSON report (HTML, job summary, JUnit XML).

Each rule is written once and serves judge and generator runs alike: a metric with its 95%
interval, a gate's limit, clipping long texts, counting nouns, and naming a generator run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_llmjudge import secrets
from pytest_llmjudge.scoring.gating import with_interval
from pytest_llmjudge.wording import plural


def interval(metrics: Mapping[str, Any], name: str) -> tuple[float, float] | None:
    """The 95% interval `<name>_ci` of a metric in a report's `metrics`, or None."""
    value = metrics.get(f"{name}_ci")
    if isinstance(value, list | tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    return None


def with_ci(metrics: Mapping[str, Any], name: str) -> str:
    """'0.500 [0.15, 0.85]', '0.500' when the metric has no interval, 'n/a' when it is
    undefined (null), '-' when it is missing."""
    if name in metrics and metrics[name] is None:
        return "n/a"
    point = metrics.get(name)
    if not isinstance(point, int | float):
        return "-"
    bounds = interval(metrics, name)
    return with_interval(float(point), bounds) if bounds else f"{point:.3f}"


def number(value: Any) -> str:
    """'0.500', 'n/a' for an undefined value (None)."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def shown(value: Any) -> str:
    """A count as it is (4), any other number to three places (0.500)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return number(value)


def limit(gate: Mapping[str, Any]) -> str:
    """A gate's limit as its threshold was written: 0.9, 10, 1e-05."""
    value = gate.get("value")
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def clip(text: str, most: int) -> str:
    """`text` with secrets masked, then cut to at most `most` characters (the last one an
    ellipsis) when longer."""
    return secrets.clip(text, max(0, most - 1), "…") if len(text) > most else secrets.redact(text)


def generator_run_name(run: Mapping[str, Any]) -> str:
    """A generator run (report entry or skipped one) for people: 'base at t0.5 on gen'."""
    return f"{run.get('generator')} at {run.get('point')} on {run.get('dataset')}"


def answer_label(answer: Mapping[str, Any]) -> str:
    """The judge's label of a generated answer: '1' (consistent), '0', or 'unscored'."""
    label = answer.get("consistent")
    return "unscored" if label is None else str(label)


def calls_line(where: str, counts: Mapping[str, int]) -> str:
    """One run's model calls over all its batches (and xdist workers), in plain words:
    'judge m on news: 40 cases, 3 from the cache, 39 requests sent (2 retries)', and with
    repeat=3 '40 cases x 3 repetitions (120 answers), ...'."""
    retries = counts.get("retries", 0)
    extra = [f"{retries} {'retry' if retries == 1 else 'retries'}"] if retries else []
    if counts.get("rate_limited"):
        extra.append(f"{counts['rate_limited']} answered 429")
    detail = f" ({', '.join(extra)})" if extra else ""
    answers, again = counts.get("cases", 0), counts.get("repetitions", 0)
    cases = plural(answers - again, "case")
    if again:
        times = round(answers / (answers - again)) if answers > again else 0
        cases = f"{cases} x {times} repetitions ({answers} answers)"
    return (
        f"{where}: {cases}, {counts.get('cached', 0)} from the "
        f"cache, {plural(counts.get('requests', 0), 'request')} sent{detail}"
    )
