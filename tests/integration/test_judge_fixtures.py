"""Judges declared as fixtures in conftest.py and named in `judges=`."""

from __future__ import annotations

import pytest

MODULE = """
import pytest

@pytest.mark.llmjudge(dataset="cases.jsonl", judges={judges})
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_judge_fixture_that_depends_on_another_fixture(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makeconftest(
        """
        import pytest
        from pytest_llmjudge import Judge

        @pytest.fixture(scope="session")
        def judge_model():
            return "scripted-model-7"

        @pytest.fixture(scope="session")
        def house_judge(judge_model):
            def answer(case):
                return {"prediction": 1, "reason": f"{judge_model} says yes"}
            return Judge(name="house", backend="function", model=judge_model, function=answer)
        """
    )
    pytester.makepyfile(test_fixture_judge=MODULE.format(judges='["house_judge"]'))
    result = pytester.runpytest("-v", "-rx", "--llmjudge-report", "report.json")
    # the id uses the fixture name, the judge is built with the other fixture's value
    result.stdout.fnmatch_lines(
        [
            "*test_eval[[]house_judge-c1] PASSED*",
            "*test_eval[[]house_judge-c2] XFAIL*",
            "*test_eval[[]house_judge-c3] PASSED*",
            "XFAIL*house_judge-c2] - mismatch: target 0, judge 'house_judge' said 1: "
            "scripted-model-7 says yes",
        ]
    )
    result.assert_outcomes(passed=2, xfailed=1)
    [run] = project.report()["runs"]
    assert (run["judge"], run["model"], run["backend"]) == (
        "house_judge",
        "scripted-model-7",
        "function",
    )


def test_fixture_and_object_judges_together(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]))
    pytester.makeconftest(
        """
        import pytest
        from pytest_llmjudge import Judge

        @pytest.fixture(scope="session")
        def fixture_judge():
            return Judge(name="fj", backend="function", function=lambda case: case.target)
        """
    )
    pytester.makepyfile(
        test_mixed="""
        import pytest
        from pytest_llmjudge import Judge

        @pytest.mark.llmjudge(dataset="cases.jsonl", judges=[
            "fixture_judge", Judge(name="inline", backend="function", function=lambda c: 0)])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest("-k", "fixture_judge", "--collect-only", "-q")
    assert [line for line in result.outlines if "::" in line] == [
        "test_mixed.py::test_eval[fixture_judge-c1]",
        "test_mixed.py::test_eval[fixture_judge-c2]",
    ]
    full = pytester.runpytest()
    full.assert_outcomes(passed=3, xfailed=1)


def test_judge_fixture_that_skips_skips_its_items(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makeconftest(
        """
        import pytest
        from pytest_llmjudge import Judge

        @pytest.fixture(scope="session")
        def remote_judge():
            pytest.skip("REMOTE_JUDGE_KEY is not set")

        @pytest.fixture(scope="session")
        def local_judge():
            return Judge(name="local", backend="function", function=lambda case: case.target)
        """
    )
    pytester.makepyfile(test_skip=MODULE.format(judges='["remote_judge", "local_judge"]'))
    result = pytester.runpytest("-rs", "--llmjudge-report", "report.json")
    result.assert_outcomes(passed=3, skipped=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["SKIPPED [[]3[]] *REMOTE_JUDGE_KEY is not set"])
    report = project.report()
    assert [r["judge"] for r in report["runs"]] == ["local_judge"]


def test_fixture_that_is_not_a_judge_errors(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1]))
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def not_a_judge():
            return "a string"
        """
    )
    pytester.makepyfile(test_bad=MODULE.format(judges='["not_a_judge"]'))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'not_a_judge' must return a Judge, got 'a string'*"])


def test_unknown_judge_fixture_errors(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1]))
    pytester.makepyfile(test_bad=MODULE.format(judges='["no_such_judge"]'))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "test_bad.py:*: judge 'no_such_judge' could not be set up: "
            "no fixture named 'no_such_judge'*"
        ]
    )
