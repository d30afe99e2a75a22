"""pytest-xdist: a worker batches only the cases it is scheduled to run (pytest glue).

Every worker collects every item, but runs only those the controller sends it, a chunk at a
time. Batching a run's whole selection on its first item would make each worker call the model
for every case: twice the calls under `-n 2`. So on a worker, the session batches the cases of
the run that are queued on this worker (its current item, the next one and the queue of indices
xdist has sent it), at full concurrency; a case sent later is batched with the rest of its
chunk when its item comes. No case is asked twice, and the controller merges what each worker
ran (EvalSession.publish/merge) as the worker goes down.

An interrupted controller (Ctrl-C, SIGTERM) stops reading its workers' events, so before xdist
tears them down it interrupts each worker still running (a SIGINT: a Ctrl-C in a terminal has
reached them already, and plugin/signals.py makes a worker take one interruption only), waits
for each to end its session and send what it judged, and merges that: its report then holds
what the workers had, as a serial run's does.

(Grouping a run's items with `xdist_group` and `--dist loadgroup` does not work with pytest 9,
where xdist 3.8 can no longer rename items with their group.)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from pytest_llmjudge.plugin.collect import run_refs
from pytest_llmjudge.plugin.outputs import NOTES_KEY
from pytest_llmjudge.plugin.state import evals_of

WORKER_OUTPUT_KEY = "llmjudge"  # in a worker's workeroutput: its published runs, as JSON
NODES_KEY = pytest.StashKey[list[Any]]()  # on the controller: its workers, as configured
MERGED_KEY = pytest.StashKey[set[str]]()  # on the controller: the workers merged, by id
INTERRUPTED_WAIT_S = 10.0  # how long an interrupted controller waits for its workers' results


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


def track_worker(node: Any) -> None:
    """On the controller, as xdist configures a worker: remember it."""
    node.config.stash.setdefault(NODES_KEY, []).append(node)


def merge_worker(node: Any) -> None:
    """On the controller: merge what a finished worker published, once (xdist reports an
    interrupted worker down twice, finished and then crashed)."""
    published = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    merged = node.config.stash.setdefault(MERGED_KEY, set())
    if not published or node.gateway.id in merged:
        return
    merged.add(node.gateway.id)
    evals_of(node.config).merge(json.loads(published))


def expect_missing_snapshot_reports() -> None:
    """After an interruption xdist's loop has ended, so syrupy never hears of the workers'
    snapshot reports; it warns (an error under `filterwarnings = error`, exit code 1 instead of
    2), though an interrupted run is expected to lack them."""
    warnings.filterwarnings("ignore", "syrupy: received .* worker snapshot reports", UserWarning)


def gather_interrupted(config: pytest.Config, wait_s: float = INTERRUPTED_WAIT_S) -> None:
    """On an interrupted controller: interrupt the workers still running, wait (up to `wait_s`)
    for each to end its session, and merge what every worker sent; a warning for each worker
    that did not end in time, whose outcomes are then missing."""
    nodes = config.stash.get(NODES_KEY, [])
    running = [node for node in nodes if _running(node)]
    for node in running:
        _interrupt(node)
    deadline = time.monotonic() + wait_s
    while any(_running(node) for node in running) and time.monotonic() < deadline:
        time.sleep(0.05)
    for node in nodes:
        merge_worker(node)
    config.stash.setdefault(NOTES_KEY, []).extend(
        f"WARNING: llmjudge: worker {node.gateway.id} did not end within {wait_s:g} s of the "
        "interruption: what it judged is not in the results"
        for node in running
        if _running(node)
    )


def _running(node: Any) -> bool:
    """Whether a worker is up and has not sent the end of its session."""
    channel = getattr(node, "channel", None)
    return channel is not None and not hasattr(node, "workeroutput") and not channel.isclosed()


def _interrupt(node: Any) -> None:
    """SIGINT a worker process on this host (elsewhere, or on Windows, where a console's Ctrl-C
    reaches every process of it, xdist's teardown ends it)."""
    spec = node.gateway.spec
    info = getattr(node.gateway, "_cache_rinfo", None)  # execnet's, read when xdist set it up
    pid = getattr(info, "pid", None)
    if sys.platform == "win32" or not spec.popen or spec.via or not isinstance(pid, int):
        return
    try:
        os.kill(pid, signal.SIGINT)
    except OSError:  # it has ended meanwhile
        pass
