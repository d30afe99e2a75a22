"""What repeated cases (repeat=N) add to the report and the terminal: each case's repetitions,
how far they agree, and the flakiest cases of a run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.model.repeats import agreement, flaky
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.gating import with_interval
from pytest_llmjudge.wording import plural

FLAKIEST = 5  # cases named per run in the terminal


def repetition_fields(verdict: Verdict) -> dict[str, Any]:
    """A case's `verdicts` (one per repetition), `agreement` (the share agreeing with the
    majority) and `flaky` (not unanimous); null for a case judged once. The causes of unscored
    repetitions are kept in `repetition_errors`."""
    fields: dict[str, Any] = {
        "verdicts": verdict.predictions,
        "agreement": agreement(verdict),
        "flaky": flaky(verdict),
    }
    errors = [t.error for t in verdict.trials]
    if any(errors):
        fields["repetition_errors"] = errors
    return fields


def said(labels: Sequence[int | None]) -> str:
    """'1,0,1': a case's repetitions (unscored ones as '-')."""
    return ",".join("-" if label is None else str(label) for label in labels)


def flaky_lines(result: RunResult, where: str) -> Iterator[str]:
    """For a run that repeated its cases: how many were flaky, and the flakiest by name."""
    metrics = result.metrics
    if metrics.repeat < 2:
        return
    judged = result.judged_cases()
    shaky = [(agreement(v), case.id, v) for case, v in judged if flaky(v)]
    shaky.sort(key=lambda item: (item[0] if item[0] is not None else 1.0, item[1]))
    share, mean = (
        with_interval(metrics.value(name), metrics.interval(name))
        for name in ("flaky", "self_consistency")
    )
    head = (
        f"{where}: {len(shaky)} of {plural(metrics.repeated, 'case')} flaky over "
        f"{metrics.repeat} repetitions (flaky {share}, self-consistency {mean})"
    )
    if shaky:
        named = ", ".join(f"{cid} ({said(v.predictions)})" for _, cid, v in shaky[:FLAKIEST])
        more = f", and {len(shaky) - FLAKIEST} more" if len(shaky) > FLAKIEST else ""
        head += f"; flakiest: {named}{more}"
    yield head
