"""pytest-xdist on the controller: what each worker judged, merged once, also when the run is
interrupted (pytest glue).

An interrupted controller (Ctrl-C, SIGTERM) stops reading its workers' events, so before xdist
tears them down it interrupts each worker still running (a SIGINT: a Ctrl-C in a terminal has
reached them already, and plugin/signals.py makes a worker take one interruption only), waits
for each to end its session and send what it judged, and merges that: its report then holds
what the workers had, as a serial run's does.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from typing import Any

import pytest

from pytest_llmjudge.plugin.outputs import NOTES_KEY
from pytest_llmjudge.plugin.state import evals_of

WORKER_OUTPUT_KEY = "llmjudge"  # in a worker's workeroutput: its published runs, as JSON
NODES_KEY = pytest.StashKey[list[Any]]()  # on the controller: its workers, as configured
MERGED_KEY = pytest.StashKey[set[str]]()  # on the controller: the workers merged, by id
INTERRUPTED_WAIT_S = 10.0  # how long an interrupted controller waits for its workers' results


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
