"""Nothing is lost on interruption: a run killed part-way keeps the answers it got, and the next
run asks the server only for the rest; a run interrupted by Ctrl-C or SIGTERM, serial or under
pytest-xdist, exits 2 and writes its report, marked interrupted and failed, with counts that
agree. pytest runs in a subprocess against a slow ChatServer."""

from __future__ import annotations

import json
import os
import re
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


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


COMMAND = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
COMMAND += ["--llmjudge-concurrency", "4"]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


def interrupt(project: Any, sig: signal.Signals, *args: str, group: bool = False) -> str:
    """Run pytest on the project's N cases, send it `sig` after a third of them (with `group`,
    to its process group, as Ctrl-C in a terminal does); its output. SIGINT and SIGTERM end it
    with pytest's exit code for an interrupted session."""
    project.cases(project.make_rows([1, 0] * (N // 2)))
    project.server.latency = 0.05
    child = subprocess.Popen(
        [*COMMAND, *args],
        cwd=project.path,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=group,
    )
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assertion
    while project.server.count < N // 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, child.communicate()[0].decode()
    if group:
        os.killpg(child.pid, sig)
    else:
        child.send_signal(sig)
    output = child.communicate(timeout=120)[0].decode()
    assert child.returncode == (-sig if sig == signal.SIGKILL else 2), output
    return output


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name.lower() for s in SIGNALS])
def test_a_killed_run_keeps_its_answers(chat_project: Any, sig: signal.Signals) -> None:
    project, server = chat_project, chat_project.server
    output = interrupt(project, sig)

    kept = cached_rows(project.path)
    asked = server.count
    assert 0 < kept < N, output  # stopped part-way, with the answers so far on disk
    assert asked <= kept + 4  # at most the requests in flight were lost

    rerun = subprocess.run(
        COMMAND, cwd=project.path, env=child_env(), capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert server.count - asked == N - kept  # only the missing cases were asked
    assert cached_rows(project.path) == N
    assert f"{N} cases, {kept} from the cache, {N - kept} requests sent" in rerun.stdout


def check_interrupted_report(project: Any, output: str) -> None:
    """The report says interrupted and failed; the table, the interruption line and the batch
    note count the same cases, and the note's requests are those that reached the server."""
    assert "KeyboardInterrupt" in output  # SIGTERM ends the session as Ctrl-C does
    report = json.loads((project.path / "r.json").read_text())
    assert report["interrupted"] is True and report["passed"] is False
    (run,) = report["runs"]
    judged = len(run["cases"])
    assert 0 < judged < N and run["metrics"]["n"] == judged
    assert judged <= cached_rows(project.path)  # every answer judged is kept
    # the table, the interruption line and the batch's note count the same cases
    table = re.search(r"^m +cases +(\d+) ", output, re.M)
    assert table is not None and int(table.group(1)) == judged, output
    assert f"FAILED interrupted: judge m on cases: {judged} of {N} cases judged" in output
    note = re.search(
        r"^judge m on cases: (\d+) cases, 0 from the cache, (\d+) requests sent", output, re.M
    )
    assert note is not None and int(note.group(1)) == judged, output
    assert int(note.group(2)) == project.server.count  # requests: what reached the server


@pytest.mark.parametrize("sig", SIGNALS[:2], ids=[s.name.lower() for s in SIGNALS[:2]])
def test_an_interrupted_run_reports_that_it_was(chat_project: Any, sig: signal.Signals) -> None:
    output = interrupt(chat_project, sig, "--llmjudge-report", "r.json")
    check_interrupted_report(chat_project, output)


XDIST_INTERRUPTS = {  # Ctrl-C in a terminal reaches the workers too; a kill only the controller
    "ctrl-c": (signal.SIGINT, True),
    "sigint": (signal.SIGINT, False),
    "sigterm": (signal.SIGTERM, False),
}


@pytest.mark.parametrize("how", list(XDIST_INTERRUPTS))
def test_an_interrupted_xdist_run_reports_what_its_workers_judged(
    chat_project: Any, how: str
) -> None:
    sig, group = XDIST_INTERRUPTS[how]
    output = interrupt(chat_project, sig, "-n", "2", "--llmjudge-report", "r.json", group=group)
    check_interrupted_report(chat_project, output)
    assert "did not end within" not in output  # every worker sent what it judged


def test_sigterm_ends_an_xdist_controller_as_ctrl_c_from_its_start(chat_project: Any) -> None:
    """Before any worker has sent anything (the controller's EvalSession does not exist yet),
    SIGTERM still ends the controller as Ctrl-C does, rather than killing it without a word."""
    child = subprocess.Popen(
        [*COMMAND, "-n", "2", "--llmjudge-report", "r.json"],
        cwd=chat_project.path,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    lines = []
    for line in child.stdout:  # xdist starts its workers: our handler is installed already
        lines.append(line)
        if "bringing up nodes" in line:
            break
    # once both workers exist (each takes a second to import and collect before it sends
    # anything): a signal inside subprocess.Popen itself, as it spawns one, leaks the pipe it
    # was wrapping (CPython), and that ResourceWarning, an error here, would make the exit code 1
    deadline = time.monotonic() + 60
    while len(children(child.pid)) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert chat_project.server.count == 0  # no worker has asked anything yet
    child.send_signal(signal.SIGTERM)
    output = "".join(lines) + child.communicate(timeout=120)[0]
    assert child.returncode == 2, output
    assert "KeyboardInterrupt: SIGTERM" in output


PROBE = """
import signal
from pathlib import Path


def test_probe():
    Path("handler.txt").write_text(getattr(signal.getsignal(signal.SIGTERM), "__name__", "-"))
"""


def test_sigterm_is_handled_only_while_a_session_evaluates(
    project: Any, pytester: pytest.Pytester
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    if before is not signal.SIG_DFL:
        pytest.skip("this process has a SIGTERM handler of its own, which the plugin keeps")
    pytester.makepyfile(test_probe=PROBE)
    pytester.runpytest().assert_outcomes(passed=1)  # nothing evaluated: pytest's own behaviour
    assert (project.path / "handler.txt").read_text() == "-"

    project.cases(project.make_rows([1, 0]))
    project.scripted()
    pytester.runpytest().assert_outcomes(passed=3)
    assert (project.path / "handler.txt").read_text() == "_interrupt"
    assert signal.getsignal(signal.SIGTERM) is before  # restored at unconfigure
