"""Requests start as soon as a run's cases are collected, not when its first item runs.

Between the end of collection and a run's first item lie pytest's run-loop start and the first
item's set-up, and, for every run after the first, all the items before it: time in which the
server could already be answering. So at the end of collection each selected judge run of a model
judge starts its batch, and items take the verdicts as they arrive, as they did.

A run starts early only when its items are sure to ask for their verdicts: not on a
pytest-xdist worker (it batches what the controller has queued on it, plugin/xdist.py), not
when nothing will run (--collect-only, --setup-plan, collection errors that end the session),
not under -x / --maxfail / --stepwise (an earlier failure may end the session before the run's
items), and not when an item of the run carries a skip, skipif or xfail mark (its set-up may
never ask). Such runs start on their first item, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.runs import CaseRef, Key

_HOLDING_MARKS = ("skip", "skipif", "xfail")


def start_collected_runs(session: pytest.Session, evals: EvalSession) -> None:
    """Start the batches of the collected runs whose items will all ask for their verdicts."""
    config = session.config
    option = config.option
    if (
        hasattr(config, "workerinput")
        or option.collectonly
        or getattr(option, "setupplan", False)
        or getattr(option, "maxfail", 0)
        or getattr(option, "stepwise", False)
        or (session.testsfailed and not getattr(option, "continue_on_collection_errors", False))
    ):
        return
    evals.start(_runs_to_start(session.items))


def _runs_to_start(items: Iterable[pytest.Item]) -> list[Key]:
    """The judge runs of `items`, in item order, less those with an item that may not ask."""
    order: dict[Key, bool] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        ref = callspec.params.get("llmjudge_result") if callspec is not None else None
        if not isinstance(ref, CaseRef):
            continue
        held = any(mark.name in _HOLDING_MARKS for mark in item.iter_markers())
        order[ref.run] = order.get(ref.run, True) and not held
    return [key for key, ok in order.items() if ok]
