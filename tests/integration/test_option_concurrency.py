"""--llmjudge-concurrency / llmjudge_concurrency: a judge's batch runs concurrently, bounded."""

from __future__ import annotations

import pytest

ASYNC_JUDGE = """
import asyncio
from pathlib import Path

import pytest
from pytest_llmjudge import Judge

STATE = {{"now": 0, "max": 0, "calls": 0}}
OUT = Path(__file__).with_name("inflight.txt")


async def slow(case):
    STATE["now"] += 1
    STATE["calls"] += 1
    STATE["max"] = max(STATE["max"], STATE["now"])
    OUT.write_text(f"{{STATE['max']}} {{STATE['calls']}}")
    await asyncio.sleep({sleep})
    STATE["now"] -= 1
    return case.target


@pytest.mark.llmjudge(dataset="cases.jsonl",
                      judges=[Judge(name="slow", backend="function", function=slow)])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def in_flight(project) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    most, calls = (project.path / "inflight.txt").read_text().split()
    return int(most), int(calls)


def test_batch_runs_concurrently_up_to_the_limit(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0] * 10))
    pytester.makepyfile(test_slow=ASYNC_JUDGE.format(sleep=0.2))
    result = pytester.runpytest("--llmjudge-concurrency", "10")
    result.assert_outcomes(passed=20)
    assert in_flight(project) == (10, 20)  # 10 at a time, never more, each case once


def test_concurrency_from_ini(project, pytester: pytest.Pytester) -> None:
    project.ini("llmjudge_concurrency = 3\n")
    project.cases(project.make_rows([1, 0] * 4))
    pytester.makepyfile(test_slow=ASYNC_JUDGE.format(sleep=0.02))
    result = pytester.runpytest()
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["llmjudge: concurrency 3,*"])
    assert in_flight(project) == (3, 8)


def test_cli_concurrency_overrides_ini(project, pytester: pytest.Pytester) -> None:
    project.ini("llmjudge_concurrency = 3\n")
    project.cases(project.make_rows([1, 0] * 3))
    pytester.makepyfile(test_slow=ASYNC_JUDGE.format(sleep=0.02))
    result = pytester.runpytest("--llmjudge-concurrency", "1")
    result.assert_outcomes(passed=6)
    assert in_flight(project) == (1, 6)


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_bad_cli_concurrency_is_a_usage_error(
    project, pytester: pytest.Pytester, value: str
) -> None:
    project.cases(project.make_rows([1]))
    project.scripted()
    result = pytester.runpytest(f"--llmjudge-concurrency={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --llmjudge-concurrency*"])
    assert project.calls() == []


def test_bad_ini_concurrency_is_a_usage_error(project, pytester: pytest.Pytester) -> None:
    project.ini("llmjudge_concurrency = 0\n")
    project.cases(project.make_rows([1]))
    project.scripted()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: invalid llmjudge_concurrency = '0': must be a positive integer*"]
    )
