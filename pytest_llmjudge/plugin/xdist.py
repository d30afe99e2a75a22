"""pytest-xdist: a worker batches only the cases it is scheduled to run (pytest glue).

Every worker collects every item, but runs only those the controller sends it, a chunk at a
time. Batching a run's whole selection on its first item would make each worker call the model
for every case: twice the calls under `-n 2`. So on a worker, the session batches the cases of
the run that are queued on this worker (its current item, the next one and the queue of indices
xdist has sent it), at full concurrency; a case sent later is batched with the rest of its
chunk when its item comes. No case is asked twice, and the controller merges what each worker
ran (EvalSession.publish/merge, plugin/workers.py) as the worker goes down.

(Grouping a run's items with `xdist_group` and `--dist loadgroup` does not work with pytest 9,
where xdist 3.8 can no longer rename items with their group.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_llmjudge.plugin.collect import run_refs


def scheduled_cases(config: pytest.Config) -> Callable[[Any], set[str] | None] | None:
    """On a pytest-xdist worker, a function giving the ids of a run's cases queued on this
    worker (None when the queue cannot be read: then only the current case is batched)."""
    if not hasattr(config, "workerinput"):
        return None

    def scheduled(key: Any) -> set[str] | None:
        interactor = _interactor(config)
        if interactor is None:
            return None
        session = getattr(interactor, "session", None)
        items = getattr(session, "items", None)
        if items is None:
            return None
        try:
            with interactor.torun.lock() as queue:
                indices = list(queue)
        except AttributeError:  # another xdist: no queue to read
            return None
        indices.append(getattr(interactor, "nextitem_index", None))
        queued = [items[i] for i in indices if isinstance(i, int) and 0 <= i < len(items)]
        refs = run_refs(queued)  # judge and generator runs alike
        return {ref.case.id for ref in refs if ref.run == key}

    return scheduled


def _interactor(config: pytest.Config) -> Any:
    """xdist's WorkerInteractor plugin of this worker process."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            return plugin
    return None
