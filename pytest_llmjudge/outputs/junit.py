"""JUnit XML properties of cases, answers and runs (no pytest).

With `--junitxml`, each case item carries `llmjudge.*` properties (judge, dataset, case id,
target, prediction, reason, error), each generator item its answers'
(`llmjudge.answer.<sample>.id`, `.label`, `.reason`, ...), and the test suite carries each run's
metrics, gates and outcome, so CI systems that read JUnit XML show them. A judge run's are named
`llmjudge.<judge>.<dataset>.<metric>`, a generator run's
`llmjudge_generator.<generator>.<point>.<dataset>.<metric>`: every judge run's name starts with
`llmjudge.`, so the two can never collide. Either is prefixed with the test when two runs of a
report would have the same name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.outputs.formatting import clip, interval, limit
from pytest_llmjudge.scoring.thresholds import GENERATOR_METRICS as GATED_GENERATOR_METRICS

if TYPE_CHECKING:
    from pytest_llmjudge.model.gen_run import Answer
    from pytest_llmjudge.model.verdict import Verdict

PREFIX = "llmjudge"
GENERATOR_PREFIX = "llmjudge_generator"  # not "llmjudge.": no judge run's name starts with it
RUN_METRICS = ("n", "unscored", "coverage", "accuracy", "precision", "recall", "f1")
INTERVALS = ("accuracy", "precision", "recall", "f1")
# every metric a generator run can be gated on, and how its answers were drawn and counted
GENERATOR_METRICS = (*GATED_GENERATOR_METRICS, "cases", "samples", "hallucinated")
GENERATOR_INTERVALS = ("hallucination_rate", "faithfulness")
MAX_TEXT = 2000  # reasons and answers longer than this are clipped in the XML


def case_properties(
    judge: str,
    dataset: str,
    case_id: str,
    target: int,
    prediction: int | None,
    reason: str,
    error: str | None,
    repetitions: Sequence[int | None] = (),
) -> list[tuple[str, str]]:
    """The properties of one case item (an unscored case has prediction 'unscored'; a repeated
    case, `llmjudge.verdicts`, each repetition's verdict: '1,0,1')."""
    props = [
        (f"{PREFIX}.judge", judge),
        (f"{PREFIX}.dataset", dataset),
        (f"{PREFIX}.case", case_id),
        (f"{PREFIX}.target", str(target)),
        (f"{PREFIX}.prediction", "unscored" if prediction is None else str(prediction)),
        (f"{PREFIX}.correct", str(prediction == target).lower()),
        (f"{PREFIX}.reason", clip(reason, MAX_TEXT)),
    ]
    if error:
        props.append((f"{PREFIX}.error", clip(error, MAX_TEXT)))
    if repetitions:
        said = ",".join("unscored" if p is None else str(p) for p in repetitions)
        props.append((f"{PREFIX}.verdicts", said))
    return props


def answer_properties(
    generator: str,
    point: str,
    dataset: str,
    case_id: str,
    answers: Sequence[tuple[Answer, Verdict]],
) -> list[tuple[str, str]]:
    """The properties of one generator item: each of the case's answers (1..samples) with its
    id, the judge's label (`unscored` when there is none), reason, error and text, clipped."""
    props = [
        (f"{PREFIX}.generator", generator),
        (f"{PREFIX}.point", point),
        (f"{PREFIX}.dataset", dataset),
        (f"{PREFIX}.case", case_id),
    ]
    for answer, verdict in answers:
        base = f"{PREFIX}.answer.{answer.sample}"
        label = "unscored" if verdict.prediction is None else str(verdict.prediction)
        props += [(f"{base}.id", answer.id), (f"{base}.label", label)]
        props.append((f"{base}.reason", clip(verdict.reason, MAX_TEXT)))
        error = answer.cause(verdict)
        if error:
            props.append((f"{base}.error", clip(error, MAX_TEXT)))
        if answer.text is not None:
            props.append((f"{base}.text", clip(answer.text, MAX_TEXT)))
    return props


def run_properties(report: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Test-suite properties of every run in a JSON report (see report.report_dict): judge runs
    under `llmjudge.`, generator runs under `llmjudge_generator.`, then `llmjudge.passed`."""
    runs = list(report.get("runs") or [])
    generator_runs = list(report.get("generator_runs") or [])
    for base, run in _named(PREFIX, runs, ("judge", "dataset")):
        yield from _run_properties(base, run, RUN_METRICS, INTERVALS)
    for base, run in _named(GENERATOR_PREFIX, generator_runs, ("generator", "point", "dataset")):
        metrics: Sequence[str] = GENERATOR_METRICS
        if not (run.get("metrics") or {}).get("relevancy_n"):  # not rated
            metrics = tuple(m for m in metrics if m != "relevancy")
        yield from _run_properties(base, run, metrics, GENERATOR_INTERVALS)
    if runs or generator_runs:
        yield f"{PREFIX}.passed", str(bool(report.get("passed"))).lower()


def _named(
    prefix: str, runs: Sequence[Mapping[str, Any]], fields: tuple[str, ...]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each run with its property name: `prefix.<fields>`, with the test before the fields when
    two runs of the report share them."""
    keys = [tuple(run.get(f) for f in fields) for run in runs]
    seen = Counter(keys)
    for key, run in zip(keys, runs, strict=True):
        name = ".".join(str(part) for part in key)
        if seen[key] > 1:
            name = f"{run.get('test')}.{name}"
        yield f"{prefix}.{name}", run


def _run_properties(
    base: str, run: Mapping[str, Any], names: Sequence[str], intervals: Sequence[str]
) -> Iterator[tuple[str, str]]:
    metrics = run.get("metrics") or {}
    for metric in names:
        if metric in metrics:  # an undefined metric (null) is "n/a", never 0
            yield f"{base}.{metric}", "n/a" if metrics[metric] is None else _value(metrics[metric])
    for metric in intervals:
        bounds = interval(metrics, metric)
        if bounds is not None:
            yield f"{base}.{metric}_ci", f"{_value(bounds[0])},{_value(bounds[1])}"
    for gate in run.get("thresholds") or []:
        state = "passed" if gate.get("passed") else "failed"
        yield f"{base}.gate.{gate.get('metric')}{gate.get('op')}{limit(gate)}", state
    comparison = run.get("comparison")
    if isinstance(comparison, Mapping) and comparison.get("verdict"):
        yield f"{base}.baseline", str(comparison["verdict"])
    yield f"{base}.passed", str(bool(run.get("passed"))).lower()


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
