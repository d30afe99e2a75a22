"""GitHub Actions job summary: a Markdown table of the runs, built from the JSON report (no pytest).

When `GITHUB_STEP_SUMMARY` names a file (GitHub sets it in every step), the plugin appends
`step_summary(report_dict(...))` to it, and the job's summary page shows the table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
MAX_MISMATCHES = 10  # listed per run under the table; the rest are in the JSON/HTML reports
_COLUMNS = (
    "judge",
    "dataset",
    "n",
    "unscored",
    "accuracy [95% CI]",
    "precision",
    "recall",
    "F1",
    "gates",
)


def step_summary_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The job-summary file GitHub Actions gave this step, or None outside Actions."""
    value = environ.get(STEP_SUMMARY_ENV, "").strip()
    return Path(value) if value else None


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, no newlines, no HTML tags."""
    value = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    return " ".join(value.split())


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def _with_ci(metrics: Mapping[str, Any], name: str) -> str:
    point = metrics.get(name)
    interval = metrics.get(f"{name}_ci")
    if not isinstance(point, int | float):
        return "-"
    if isinstance(interval, list | tuple) and len(interval) == 2:
        return f"{point:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"
    return f"{point:.3f}"


def _gates(run: Mapping[str, Any]) -> str:
    cells = []
    for gate in run.get("thresholds") or []:
        value = gate.get("value")
        limit = f"{value:g}" if isinstance(value, int | float) else str(value)
        mark = "✅" if gate.get("passed") else "❌"
        cells.append(
            f"{mark} {gate.get('metric')} {gate.get('op')} {limit} ({_number(gate.get('actual'))})"
        )
    comparison = run.get("comparison")
    if isinstance(comparison, Mapping) and comparison.get("verdict"):
        passed = comparison.get("passed", True)
        mark = "✅" if passed else "❌"
        cells.append(f"{mark} vs {comparison.get('baseline', 'baseline')}: {comparison['verdict']}")
    elif run.get("comparison_error"):
        cells.append("❌ baseline: cases differ")
    return "<br>".join(cell(c) for c in cells) or "-"


def _row(run: Mapping[str, Any]) -> list[str]:
    m = run.get("metrics") or {}
    unscored = m.get("unscored", "-")
    if m.get("unscored_policy") == "exclude" and unscored:
        unscored = f"{unscored} (excluded)"
    return [
        cell(run.get("judge", "?")),
        cell(run.get("dataset", "?")),
        str(m.get("n", "-")),
        cell(unscored),
        _with_ci(m, "accuracy"),
        _with_ci(m, "precision"),
        _with_ci(m, "recall"),
        _with_ci(m, "f1"),
        _gates(run),
    ]


def summary_lines(report: Mapping[str, Any], title: str = "LLM judge evaluation") -> Iterator[str]:
    """The Markdown of the job summary: verdict, one table row per run, comparisons, skips."""
    runs = list(report.get("runs") or [])
    skipped = list(report.get("skipped") or [])
    if not runs and not skipped:
        return
    passed = report.get("passed", all(r.get("passed", True) for r in runs))
    yield f"## {title}: {'✅ passed' if passed else '❌ failed'}"
    yield ""
    if runs:
        yield "| " + " | ".join(_COLUMNS) + " |"
        yield "|" + "|".join("---" if i < 2 else "--:" for i in range(len(_COLUMNS) - 1)) + "|---|"
        for run in runs:
            yield "| " + " | ".join(_row(run)) + " |"
        yield ""
    for run in runs:
        comparison = run.get("comparison")
        where = f"**{cell(run.get('judge'))}** on **{cell(run.get('dataset'))}**"
        if isinstance(comparison, Mapping) and comparison.get("why"):
            baseline = cell(comparison.get("baseline"))
            yield f"- {where} vs baseline `{baseline}`: {cell(comparison['why'])}"
        elif run.get("comparison_error"):
            yield f"- {where}: {cell(run['comparison_error'])}"
    for run in skipped:
        yield (
            f"- skipped: judge {cell(run.get('judge'))} on {cell(run.get('dataset'))}: "
            f"{cell(run.get('reason'))}"
        )
    mismatched = [
        (run, case)
        for run in runs
        for case in run.get("cases") or []
        if not case.get("correct", True)
    ]
    if mismatched:
        yield ""
        yield f"<details><summary>{len(mismatched)} mismatched or unscored case(s)</summary>"
        yield ""
        yield "| judge | dataset | case | target | verdict | reason |"
        yield "|---|---|---|--:|---|---|"
        shown: dict[str, int] = {}
        for run, case in mismatched:
            label = f"{run.get('judge')}/{run.get('dataset')}"
            shown[label] = shown.get(label, 0) + 1
            if shown[label] > MAX_MISMATCHES:
                continue
            prediction = case.get("prediction")
            verdict = "unscored" if prediction is None else str(prediction)
            reason = case.get("reason") or case.get("error") or ""
            yield (
                f"| {cell(run.get('judge'))} | {cell(run.get('dataset'))} | {cell(case.get('id'))} "
                f"| {case.get('target')} | {verdict} | {cell(_clip(reason))} |"
            )
        hidden = sum(max(0, count - MAX_MISMATCHES) for count in shown.values())
        if hidden:
            yield ""
            yield f"{hidden} more in the JSON or HTML report."
        yield ""
        yield "</details>"
    yield ""


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def append_step_summary(path: Path, report: Mapping[str, Any]) -> bool:
    """Append the summary of `report` to the job-summary file; False when there was nothing."""
    text = "\n".join(summary_lines(report))
    if not text:
        return False
    with path.open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    return True
