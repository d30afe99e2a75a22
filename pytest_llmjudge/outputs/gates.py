"""How a finished run's gates and selection are shown, the same for judge and generator runs:
the report's fields and the terminal's words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.wording import plural


def selection(result: RunResult) -> dict[str, Any]:
    """A run's selection in the report: partial, selected and total cases, gates applied."""
    return {
        "partial": result.partial,
        "selected": len(result.run.cases),
        "total": result.run.total,
        "gates_applied": result.gates_applied,
    }


def selection_note(r: RunResult) -> str | None:
    """`partial: 1 of 20 cases` for a partly selected run, else None."""
    if not r.partial:
        return None
    return f"partial: {len(r.run.cases)} of {plural(r.run.total, 'case')}"


def threshold_cells(r: RunResult) -> list[str]:
    """The gates column's cells: a partial run's selection, then each threshold's outcome."""
    note = selection_note(r)
    missed = "FAILED" if r.gates_applied else "missed, not applied"
    cells = [note] if note else []
    return cells + [f"{t.threshold} {'ok' if t.passed else missed}" for t in r.thresholds]


def gate_lines(r: RunResult, where: str) -> Iterator[str]:
    """A run scoring nothing, its missed thresholds, and why a partial run's are not applied."""
    if r.nothing_scored is not None:
        yield f"FAILED run: {where}: {r.nothing_scored}"
    label = "FAILED gate" if r.gates_applied else "gate not applied (partial run)"
    for t in r.thresholds:
        if not t.passed:
            bound = f"threshold {t.threshold.op} {t.threshold.value:g}"
            part = f" (slice {t.threshold.slice})" if t.threshold.slice else ""
            yield f"{label}: {where}{part}: {t.checked()}, {bound}"
    if r.partial and not r.gates_applied and (r.thresholds or r.comparison is not None):
        yield (
            f"{selection_note(r)} selected for {where}: its gates are reported, not applied "
            "(--llmjudge-gate-partial applies them)"
        )
