"""Slices in the terminal: one table row per (run, slice), for judge and generator runs alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.outputs.formatting import with_ci


def slice_lines(
    results: Sequence[RunResult], columns: Sequence[str], label: Callable[[RunResult], str]
) -> Iterator[str]:
    """The slices table of the runs that have slices (nothing when none has): the run's name,
    its dataset, the slice, its cases and unscored ones, then each of `columns` with its
    interval (n/a when undefined)."""
    rows = [("slice of", "dataset", "slice", "n", "unscored", *columns)]
    for result in results:
        for name, metrics in result.slices.items():
            data = metrics.model_dump(mode="json")
            rows.append(
                (
                    label(result),
                    result.run.key.dataset,
                    name,
                    str(data["n"]),
                    str(data["unscored"]),
                    *(with_ci(data, column) for column in columns),
                )
            )
    if len(rows) == 1:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
