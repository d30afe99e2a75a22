"""pytest-xdist: the workers of a run share one budget ledger (pytest glue).

With `--llmjudge-max-requests`, `--llmjudge-max-tokens` or `--llmjudge-max-cost`, the controller
creates the run's ledger, a small SQLite file in a temporary folder named after xdist's
`testrunuid`, before its first worker starts, hands its path to every worker in `workerinput`,
and removes it at the end of the run. A serial run has no file: its budget is counted in memory.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from pytest_llmjudge.plugin.state import settings_of

WORKERINPUT_KEY = "llmjudge_ledger"  # in a worker's workerinput: the ledger's path
LEDGER_KEY = pytest.StashKey[Path]()  # on the controller: the ledger it created


def configure_node(node: object) -> None:
    """On the controller, as xdist configures a worker: give it the run's ledger (created with
    the first worker), when the run has a budget."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    calls = settings_of(config).calls
    if calls.max_requests is None and calls.max_tokens is None and calls.max_cost is None:
        return
    path = config.stash.get(LEDGER_KEY, None)
    if path is None:
        from pytest_llmjudge.calls.budget import create_ledger

        workerinput: dict[str, object] = node.workerinput  # type: ignore[attr-defined]
        run = str(workerinput.get("testrunuid", "run"))[:12]
        path = Path(tempfile.mkdtemp(prefix=f"llmjudge-budget-{run}-")) / "ledger.sqlite3"
        create_ledger(path)
        config.stash[LEDGER_KEY] = path
    node.workerinput[WORKERINPUT_KEY] = str(path)  # type: ignore[attr-defined]


def worker_ledger(config: pytest.Config) -> Path | None:
    """On a pytest-xdist worker, the run's shared ledger; None in a serial run (or on a worker
    of another host, which cannot see the file: it counts its own budget)."""
    workerinput = getattr(config, "workerinput", None)
    path = workerinput.get(WORKERINPUT_KEY) if isinstance(workerinput, dict) else None
    return Path(path) if path and Path(path).is_file() else None


def remove_ledger(config: pytest.Config) -> None:
    """On the controller, after the workers: remove the run's ledger and its folder."""
    path = config.stash.get(LEDGER_KEY, None)
    if path is not None:
        del config.stash[LEDGER_KEY]
        shutil.rmtree(path.parent, ignore_errors=True)
