"""Nothing is lost on interruption: a run killed part-way keeps the answers it got, and the next
run asks the server only for the rest. pytest runs in a subprocess against a slow ChatServer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.calls.cache import FILE_NAME

N = 60


def child_env() -> dict[str, str]:
    """The environment chat_project set up (key, server), without pytest's own variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["NO_PROXY"] = "127.0.0.1"
    return env


def cached_rows(folder: Path) -> int:
    with sqlite3.connect(folder / ".llmjudge" / "cache" / FILE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_a_killed_run_keeps_its_answers(chat_project: Any, sig: signal.Signals) -> None:
    project, server = chat_project, chat_project.server
    project.cases(project.make_rows([1, 0] * (N // 2)))
    server.latency = 0.05
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--llmjudge-concurrency", "4"]

    env = child_env()
    child = subprocess.Popen(
        command, cwd=project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assertion
    while server.count < N // 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, child.communicate()[0].decode()
    child.send_signal(sig)
    output = child.communicate(timeout=120)[0].decode()
    assert child.returncode != 0, output

    kept = cached_rows(project.path)
    asked = server.count
    assert 0 < kept < N, output  # stopped part-way, with the answers so far on disk
    assert asked <= kept + 4  # at most the requests in flight were lost

    rerun = subprocess.run(
        command, cwd=project.path, env=env, capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert server.count - asked == N - kept  # only the missing cases were asked
    assert cached_rows(project.path) == N
    assert f"{N} cases, {kept} from the cache, {N - kept} requests" in rerun.stdout
