"""Where hallucinations begin: per generator, the lowest temperature of a sampling grid at which a
point's hallucination rate exceeds that of the grid's lowest point (data in, strings out)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.model.gen_run import GenRun


def _order(r: RunResult) -> tuple[float, float, int]:
    assert isinstance(r.run, GenRun)
    s = r.run.sampling
    return (s.temperature, 1.0 if s.top_p is None else s.top_p, s.top_k or 0)


def onset(results: Sequence[RunResult]) -> str | None:
    """The onset line of one generator's runs over a grid (None: a single temperature)."""
    runs = sorted(
        (r for r in results if r.metrics.hallucination_rate is not None),  # n/a: nothing scored
        key=_order,
    )
    if len({_order(r)[0] for r in runs}) < 2:
        return None
    lowest = runs[0]
    floor = lowest.metrics.hallucination_rate
    key = lowest.run.key
    where = f"{key.generator} on {key.dataset}"
    base = f"{floor:.3f} at {key.point}"
    for temperature, group in groupby(runs[1:], key=lambda r: _order(r)[0]):
        worst = max(group, key=lambda r: r.metrics.hallucination_rate)
        rate = worst.metrics.hallucination_rate
        if rate > floor:
            return (
                f"hallucinations begin: {where} at temperature {temperature:g} "
                f"({worst.run.key.point}: {rate:.3f} > {base})"
            )
    top = _order(runs[-1])[0]
    return (
        f"hallucinations begin: {where}: no point up to temperature {top:g} exceeds the "
        f"lowest ({base})"
    )


def onset_lines(results: Sequence[RunResult]) -> Iterator[str]:
    """One onset line per (test, generator, dataset) evaluated at two temperatures or more."""
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in results:
        if isinstance(r.run, GenRun):
            k = r.run.key
            groups.setdefault((k.test, k.generator, k.dataset), []).append(r)
    for runs in groups.values():
        line = onset(runs)
        if line is not None:
            yield line
