"""A judge that cannot be set up (a bad training file, an unknown fixture name) gives one error
for its run, with file:line, and the run fails having scored nothing; no traceback per case."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest
from pytest_llmjudge import local_judge


@pytest.fixture(scope="session")
def offline():
    return local_judge("offline", train=["bad.jsonl"])
"""

TEST = """
import pytest


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=["offline", "nosuch"])
def test_e(llmjudge_result):
    llmjudge_result.check()
"""


def test_one_error_per_run_that_cannot_be_set_up(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1, 0]))
    (project.path / "bad.jsonl").write_text('{"premise": "a", "hypothesis": "b" "target": 1}\n')
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_e=TEST)
    result = pytester.runpytest("--llmjudge-report=report.json")
    result.assert_outcomes(errors=2, xfailed=6)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "test_e.py:4: judge 'offline' could not be set up: cannot train: *bad.jsonl:1: "
            "invalid JSON*",
            "test_e.py:4: judge 'nosuch' could not be set up: no fixture named 'nosuch'*",
        ]
    )
    assert "Traceback" not in out and "During handling" not in out
    assert "available fixtures" not in out
    assert out.count("could not be set up") <= 2 + 2 + 2  # errors, summary lines, short info
    for run in project.report()["runs"]:
        assert run["passed"] is False
        assert run["metrics"]["unscored"] == 4
        assert all("could not be set up" in case["error"] for case in run["cases"])
