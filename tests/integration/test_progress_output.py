"""Batch progress: a live line on a terminal, exactly one line per run otherwise."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

FINAL = re.compile(
    r"llmjudge: judge (\S+) on (\S+): (\d+) cases? in [\d.]+ s( \([\d.]+/s\))?, (\d+) unscored"
)


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1]), name="a")
    project.cases(project.make_rows([1, 1, 0, 0]), name="b")
    project.scripted(answers={"c2": "not json"}, dataset="a.jsonl", extra=', datasets=["b.jsonl"]')
    return project


def finals(text: str) -> list[tuple[str, str, str, str]]:
    return [(m[1], m[2], m[3], m[5]) for m in FINAL.finditer(text)]


@pytest.mark.parametrize("args", [[], ["-q"], ["-v"]], ids=["default", "quiet", "verbose"])
def test_one_line_per_run_when_not_a_terminal(
    setup, pytester: pytest.Pytester, args: list[str]
) -> None:
    result = pytester.runpytest(*args)
    out = result.stdout.str()
    assert finals(out) == [("scripted", "a", "3", "1"), ("scripted", "b", "4", "1")]
    assert "\r" not in out
    assert len([line for line in out.splitlines() if line.startswith("llmjudge: judge")]) == 2
    result.assert_outcomes(passed=5, xfailed=2)


def test_default_verbosity_keeps_the_results_line(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "llmjudge: judge scripted on a: 3 cases in *, 1 unscored",
            "test_eval.py .x.*",
            "llmjudge: judge scripted on b: 4 cases in *, 1 unscored",
            "test_eval.py .x..*",
        ]
    )


def test_very_quiet_prints_no_progress(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-qq")
    assert finals(result.stdout.str()) == []


def test_live_line_on_a_terminal(setup, pytester: pytest.Pytester) -> None:
    controller, worker = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(COLUMNS="120", TERM="xterm")
    with subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=setup.path,
        stdin=subprocess.DEVNULL,
        stdout=worker,
        stderr=worker,
        env=env,
    ) as proc:
        os.close(worker)
        chunks = []
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    os.close(controller)
    out = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode("utf-8", "replace"))
    assert proc.returncode == 0, out
    assert "\rllmjudge: judge scripted on a: 0/3, 0 unscored" in out  # drawn in place
    assert finals(out) == [("scripted", "a", "3", "1"), ("scripted", "b", "4", "1")]
