"""A run in which the judge scored nothing fails with its cause, whatever its thresholds."""

from __future__ import annotations

import pytest

from pytest_llmjudge.testing import ChatServer

RAISING = """
import pytest
from pytest_llmjudge import Judge


def broken(case):
    raise RuntimeError("the judge is down")


JUDGE = Judge(name="broken", backend="function", function=broken)


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_a_judge_that_scores_nothing_fails_the_run(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_eval=RAISING)
    result = pytester.runpytest("--llmjudge-report=report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED run: judge broken on cases: scored nothing: 3 of 3 unscored with the cause *"
            "the judge is down*"
        ]
    )
    assert "1 gate failed" in result.stdout.lines[-1]
    report = project.report()
    assert report["passed"] is False
    (run,) = report["runs"]
    assert run["passed"] is False
    assert "the judge is down" in run["nothing_scored"]


def test_one_scored_case_is_enough_to_pass_without_thresholds(
    project, pytester: pytest.Pytester
) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    project.scripted(answers={"c1": "not a verdict", "c2": "not a verdict"})
    result = pytester.runpytest("--llmjudge-report=report.json")
    (run,) = project.report()["runs"]
    assert run["metrics"]["scored"] == 1, result.stdout.str()
    assert run["nothing_scored"] is None
    assert result.ret == pytest.ExitCode.OK


def test_every_request_401_fails_the_run(chat_project, pytester: pytest.Pytester) -> None:
    server: ChatServer = chat_project.server
    server.status = 401
    result = pytester.runpytest("--llmjudge-report=report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["FAILED run: judge m on cases: scored nothing: 6 of 6 *401*"])
    assert chat_project.report()["passed"] is False
