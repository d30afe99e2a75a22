"""Mismatched and unscored items report exactly what pytest would, without its traceback walk."""

from __future__ import annotations

import json

import pytest

# Beside each call-phase report, what pytest's own Function.repr_failure makes of the same
# exception, and whether the item had its repr_failure replaced.
COMPARE = """
import json
from pathlib import Path

import pytest

OUT = Path(__file__).with_name("reprs.jsonl")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and call.excinfo is not None:
        pytests = type(item).repr_failure(item, call.excinfo)
        with OUT.open("a") as f:
            f.write(json.dumps({
                "id": item.nodeid,
                "ours": str(report.longrepr),
                "pytest": str(pytests),
                "crash_ours": repr(report.longrepr.reprcrash),
                "crash_pytest": repr(pytests.reprcrash),
                "replaced": "repr_failure" in vars(item),
            }) + "\\n")
    return report
"""

RAISES = """
import pytest
from pytest_llmjudge import Judge

JUDGE = Judge(name="scripted", backend="function", function=lambda case: case.target)


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
def test_eval(llmjudge_result):
    assert llmjudge_result.case.id != "c2", "a plain assertion keeps its traceback"
    llmjudge_result.check()
"""


def reprs(project) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    lines = (project.path / "reprs.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def compared(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1, 0]))
    project.scripted(answers={"c1": 0, "c2": "not a verdict"})
    project.pytester.makeconftest(COMPARE)
    return project


@pytest.mark.parametrize("args", [[], ["--llmjudge-strict"], ["--tb=native"], ["-v"]])
def test_the_report_is_pytests_own(compared, pytester: pytest.Pytester, args: list[str]) -> None:
    result = pytester.runpytest(*args)
    if "--llmjudge-strict" in args:
        result.assert_outcomes(passed=2, failed=2)
        result.stdout.fnmatch_lines(["*mismatch: target 1, judge 'scripted' said 0*"])
    else:
        result.assert_outcomes(passed=2, xfailed=2)
    seen = reprs(compared)
    assert [r["id"].rsplit("-", 1)[-1] for r in seen] == ["c1]", "c2]"]
    for r in seen:
        assert r["replaced"] and r["ours"] == r["pytest"] and r["crash_ours"] == r["crash_pytest"]
    assert "unscored" in str(seen[1]["ours"]) and "Traceback" not in result.stdout.str()


def test_full_trace_keeps_pytests_formatting(compared, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fulltrace", "--llmjudge-strict")
    result.assert_outcomes(passed=2, failed=2)
    assert not any(r["replaced"] for r in reprs(compared))


def test_other_failures_keep_their_traceback(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_eval=RAISES)
    pytester.makeconftest(COMPARE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    [seen] = reprs(project)
    assert (
        seen["ours"] == seen["pytest"] and "a plain assertion keeps its traceback" in seen["ours"]
    )
    result.stdout.fnmatch_lines(
        ['>*assert llmjudge_result.case.id != "c2"*', "test_eval.py:*: AssertionError"]
    )
