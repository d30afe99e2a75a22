"""GitHub Actions job summary: Markdown tables of the runs, built from the JSON report (no pytest).

When `GITHUB_STEP_SUMMARY` names a file (GitHub sets it in every step), the plugin appends
`step_summary(report_dict(...))` to it, and the job's summary page shows one table of the judge
runs and one of the generator runs, each followed by what went wrong (mismatched cases, answers
judged hallucinated), folded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_llmjudge.outputs.formatting import (
    answer_label,
    clip,
    generator_run_name,
    limit,
    number,
    with_ci,
)
from pytest_llmjudge.secrets import redact

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
MAX_MISMATCHES = 10  # listed per run under the table; the rest are in the JSON/HTML reports
MAX_REASON = 200  # characters of a reason in a table cell
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
_GENERATOR_COLUMNS = (
    "generator",
    "sampling",
    "dataset",
    "n",
    "unscored",
    "hallucination rate [95% CI]",
    "faithfulness",
    "relevancy",
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


def _gates(run: Mapping[str, Any], comparison_failed: str) -> str:
    cells = []
    for gate in run.get("thresholds") or []:
        mark = "✅" if gate.get("passed") else "❌"
        cells.append(
            f"{mark} {gate.get('metric')} {gate.get('op')} {limit(gate)} "
            f"({number(gate.get('actual'))})"
        )
    comparison = run.get("comparison")
    if isinstance(comparison, Mapping) and comparison.get("verdict"):
        passed = comparison.get("passed", True)
        mark = "✅" if passed else "❌"
        cells.append(f"{mark} vs {comparison.get('baseline', 'baseline')}: {comparison['verdict']}")
    elif run.get("comparison_error"):
        cells.append(f"❌ {comparison_failed}")
    return "<br>".join(cell(c) for c in cells) or "-"


def _unscored(m: Mapping[str, Any]) -> str:
    unscored = m.get("unscored", "-")
    if m.get("unscored_policy") == "exclude" and unscored:
        unscored = f"{unscored} (excluded)"
    return cell(unscored)


def _row(run: Mapping[str, Any]) -> list[str]:
    m = run.get("metrics") or {}
    return [
        cell(run.get("judge", "?")),
        cell(run.get("dataset", "?")),
        str(m.get("n", "-")),
        _unscored(m),
        with_ci(m, "accuracy"),
        with_ci(m, "precision"),
        with_ci(m, "recall"),
        with_ci(m, "f1"),
        _gates(run, "baseline: cases differ"),
    ]


def _generator_row(run: Mapping[str, Any]) -> list[str]:
    m = run.get("metrics") or {}
    n = str(m.get("n", "-"))
    if (m.get("samples") or 1) > 1:
        n = f"{n} ({m.get('cases')}x{m.get('samples')})"
    return [
        cell(run.get("generator", "?")),
        cell(run.get("point", "?")),
        cell(run.get("dataset", "?")),
        n,
        _unscored(m),
        with_ci(m, "hallucination_rate"),
        number(m.get("faithfulness")),
        number(m.get("relevancy")) if m.get("relevancy_n") else "-",
        _gates(run, "comparison failed"),
    ]


def _table(columns: Sequence[str], rows: Sequence[list[str]], keys: int) -> Iterator[str]:
    """A Markdown table: the first `keys` columns left-aligned, the rest right, gates left."""
    aligns = ["---" if i < keys else "--:" for i in range(len(columns) - 1)]
    yield "| " + " | ".join(columns) + " |"
    yield "|" + "|".join(aligns) + "|---|"
    for row in rows:
        yield "| " + " | ".join(row) + " |"
    yield ""


def _comparison_line(where: str, run: Mapping[str, Any]) -> Iterator[str]:
    comparison = run.get("comparison")
    if isinstance(comparison, Mapping) and comparison.get("why"):
        baseline = cell(comparison.get("baseline"))
        yield f"- {where} vs baseline `{baseline}`: {cell(comparison['why'])}"
    elif run.get("comparison_error"):
        yield f"- {where}: {cell(run['comparison_error'])}"


def _details(
    summary: str, header: str, rows: Sequence[tuple[str, list[str]]], first_right: int
) -> Iterator[str]:
    """A folded table of what went wrong: at most MAX_MISMATCHES rows per run (rows are
    (run label, cells)); column `first_right` is right-aligned."""
    if not rows:
        return
    columns = header.split(" | ")
    aligns = ["--:" if i == first_right else "---" for i in range(len(columns))]
    yield ""
    yield f"<details><summary>{summary}</summary>"
    yield ""
    yield f"| {header} |"
    yield "|" + "|".join(aligns) + "|"
    shown: dict[str, int] = {}
    for label, cells in rows:
        shown[label] = shown.get(label, 0) + 1
        if shown[label] <= MAX_MISMATCHES:
            yield "| " + " | ".join(cells) + " |"
    hidden = sum(max(0, count - MAX_MISMATCHES) for count in shown.values())
    if hidden:
        yield ""
        yield f"{hidden} more in the JSON or HTML report."
    yield ""
    yield "</details>"


def summary_lines(report: Mapping[str, Any], title: str = "LLM judge evaluation") -> Iterator[str]:
    """The Markdown of the job summary: verdict, a table row per run (judge runs, then generator
    runs), comparisons, skips, then the mismatched cases and the flagged answers, folded."""
    runs = list(report.get("runs") or [])
    skipped = list(report.get("skipped") or [])
    generator_runs = list(report.get("generator_runs") or [])
    generator_skipped = list(report.get("generator_skipped") or [])
    if not (runs or skipped or generator_runs or generator_skipped):
        return
    every = [*runs, *generator_runs]
    passed = report.get("passed", all(r.get("passed", True) for r in every))
    yield f"## {title}: {'✅ passed' if passed else '❌ failed'}"
    yield ""
    if runs:
        yield from _table(_COLUMNS, [_row(run) for run in runs], keys=2)
    if generator_runs:
        yield from _table(_GENERATOR_COLUMNS, [_generator_row(r) for r in generator_runs], keys=3)
    for run in runs:
        where = f"**{cell(run.get('judge'))}** on **{cell(run.get('dataset'))}**"
        yield from _comparison_line(where, run)
    for run in generator_runs:
        yield from _comparison_line(f"generator **{cell(generator_run_name(run))}**", run)
    for run in skipped:
        yield (
            f"- skipped: judge {cell(run.get('judge'))} on {cell(run.get('dataset'))}: "
            f"{cell(run.get('reason'))}"
        )
    for run in generator_skipped:
        yield f"- skipped: generator {cell(generator_run_name(run))}: {cell(run.get('reason'))}"
    yield from _details(*_mismatches(runs), first_right=3)
    yield from _details(*_flagged(generator_runs), first_right=-1)
    yield ""


def _mismatches(runs: Sequence[Mapping[str, Any]]) -> tuple[str, str, list[Any]]:
    rows = []
    for run in runs:
        for case in run.get("cases") or []:
            if case.get("correct", True):
                continue
            prediction = case.get("prediction")
            verdict = "unscored" if prediction is None else str(prediction)
            reason = case.get("reason") or case.get("error") or ""
            cells = [
                cell(run.get("judge")),
                cell(run.get("dataset")),
                cell(case.get("id")),
                str(case.get("target")),
                verdict,
                cell(clip(reason, MAX_REASON)),
            ]
            rows.append((f"{run.get('judge')}/{run.get('dataset')}", cells))
    summary = f"{len(rows)} mismatched or unscored case(s)"
    return summary, "judge | dataset | case | target | verdict | reason", rows


def _flagged(runs: Sequence[Mapping[str, Any]]) -> tuple[str, str, list[Any]]:
    rows = []
    for run in runs:
        for answer in run.get("answers") or []:
            if answer.get("consistent") == 1:
                continue
            label = answer_label(answer)
            reason = (answer.get("error") if label == "unscored" else answer.get("reason")) or ""
            cells = [
                cell(generator_run_name(run)),
                cell(answer.get("id")),
                label,
                cell(clip(answer.get("answer") or "", MAX_REASON)),
                cell(clip(reason, MAX_REASON)),
            ]
            rows.append((generator_run_name(run), cells))
    summary = f"{len(rows)} answer(s) judged hallucinated or unscored"
    return summary, "generator run | answer | label | answer text | reason", rows


def append_step_summary(path: Path, report: Mapping[str, Any]) -> bool:
    """Append the summary of `report` to the job-summary file (secrets masked); False when
    there was nothing."""
    text = redact("\n".join(summary_lines(report)))
    if not text:
        return False
    with path.open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    return True
