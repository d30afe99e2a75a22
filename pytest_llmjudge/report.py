"""The evaluation report as data: JSON for machines, lines for the terminal."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .secrets import redact
from .session import EvalSession, RunResult


def run_dict(result: RunResult) -> dict[str, Any]:
    """One run as the JSON report writes it."""
    run, judge = result.run, result.run.judge
    return {
        "test": run.key.test,
        "judge": run.key.judge,
        "dataset": run.key.dataset,
        "dataset_path": str(run.dataset.path),
        "model": judge.model if judge else None,
        "backend": judge.backend if judge else None,
        "kind": judge.kind if judge else None,
        "metrics": result.metrics.model_dump(),
        "thresholds": [
            {
                "metric": t.threshold.metric,
                "op": t.threshold.op,
                "value": t.threshold.value,
                "actual": t.actual,
                "passed": t.passed,
            }
            for t in result.thresholds
        ],
        "passed": result.passed,
        "cases": [
            {
                "id": case.id,
                "target": case.target,
                "prediction": verdict.prediction,
                "correct": verdict.prediction == case.target,
                "reason": verdict.reason,
                "error": verdict.error,
                "raw": verdict.raw if verdict.prediction is None else None,
                "probability": verdict.probability,
                "latency_s": round(verdict.latency_s, 6),
                "tokens": verdict.tokens,
                "cached": verdict.cached,
            }
            for case, verdict in result.judged_cases()
        ],
    }


def report_dict(evals: EvalSession) -> dict[str, Any]:
    """The whole JSON report."""
    return {
        "passed": all(r.passed for r in evals.results),
        "runs": [run_dict(r) for r in evals.results],
        "skipped": [
            {
                "test": run.key.test,
                "judge": run.key.judge,
                "dataset": run.key.dataset,
                "reason": run.skipped,
            }
            for run in evals.skipped_runs()
        ],
    }


def write_report(evals: EvalSession, path: Path) -> None:
    """Write the JSON report (secrets scrubbed) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(redact(json.dumps(report_dict(evals), indent=2)) + "\n", encoding="utf-8")
    os.replace(tmp, path)


_HEADER = (
    "judge",
    "dataset",
    "n",
    "unscored",
    "accuracy [95% CI]",
    "precision",
    "recall",
    "f1",
    "gates",
)


def summary_lines(evals: EvalSession) -> Iterator[str]:
    """The terminal summary: one row per run, then the failed gates and skipped runs."""
    rows = [_HEADER]
    for r in evals.results:
        m = r.metrics
        gates = (
            ", ".join(f"{t.threshold} {'ok' if t.passed else 'FAILED'}" for t in r.thresholds)
            or "-"
        )
        lo, hi = m.accuracy_ci
        unscored = str(m.unscored) + (" (excluded)" if m.unscored_policy == "exclude" else "")
        rows.append(
            (
                r.run.key.judge,
                r.run.key.dataset,
                str(m.n),
                unscored,
                f"{m.accuracy:.3f} [{lo:.2f}, {hi:.2f}]",
                f"{m.precision:.3f}",
                f"{m.recall:.3f}",
                f"{m.f1:.3f}",
                gates,
            )
        )
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            yield "  ".join([*cells, row[-1]]).rstrip()
    for r in evals.results:
        if r.metrics.unscored_policy == "exclude" and r.metrics.unscored:
            yield (
                f"{r.run.key.judge} on {r.run.key.dataset}: {r.metrics.unscored} unscored cases "
                f"excluded from the metrics; coverage {r.metrics.coverage:.1%}"
            )
        for t in r.thresholds:
            if not t.passed:
                yield (
                    f"FAILED gate: judge {r.run.key.judge} on {r.run.key.dataset}: "
                    f"{t.threshold.metric} = {t.actual:.3f}, threshold {t.threshold.op} "
                    f"{t.threshold.value:g}"
                )
    for run in evals.runs.values():
        yield from run.notes
    for run in evals.skipped_runs():
        yield f"skipped: judge {run.key.judge} on {run.key.dataset}: {run.skipped}"
