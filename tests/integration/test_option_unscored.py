"""--llmjudge-unscored / llmjudge_unscored: unscored cases are shown, counted, maybe excluded."""

from __future__ import annotations

import pytest

# c1..c4 targets 1,1,0,0; c2 and c3 are unscored; c1 and c4 are right.
ANSWERS = {"c2": '{"reason": "?", "consistency": "maybe"}', "c3": ""}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 1, 0, 0]))
    project.scripted(answers=ANSWERS)
    return project


def test_unscored_cases_are_shown_and_count_as_wrong(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-rx")
    result.assert_outcomes(passed=2, xfailed=2)
    result.stdout.fnmatch_lines(
        [
            "judge*dataset*n*unscored*accuracy*",
            "scripted*cases*4*2 *0.500 *",
            "XFAIL *[[]scripted-c2] - unscored: 'consistency' is 'maybe', not 0 or 1",
            "XFAIL test_eval.py::test_eval[[]scripted-c3] - unscored: empty model output",
        ]
    )
    assert "excluded" not in result.stdout.str()


def test_exclude_from_cli_reports_coverage(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-unscored", "exclude")
    result.stdout.fnmatch_lines(
        [
            "llmjudge: *unscored cases count as exclude*",
            "scripted*cases*4*2 (excluded)*1.000 *",
            "scripted on cases: 2 unscored cases excluded from the metrics; coverage 50.0%",
        ]
    )
    assert result.ret == 0


def test_exclude_from_ini(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_unscored = exclude\n")
    result = pytester.runpytest("--llmjudge-threshold", "accuracy>=0.9")
    assert result.ret == 0  # 2/2 counted cases are right
    result.stdout.fnmatch_lines(["*coverage 50.0%"])


def test_cli_wrong_overrides_ini_exclude(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_unscored = exclude\n")
    result = pytester.runpytest(
        "--llmjudge-unscored", "wrong", "--llmjudge-threshold", "accuracy>=0.9"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED gate: judge scripted on cases: accuracy = 0.500, threshold >= 0.9"]
    )


def test_coverage_is_a_gated_metric(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--llmjudge-unscored", "exclude", "--llmjudge-threshold", "coverage>=0.9"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED gate: judge scripted on cases: coverage = 0.500, threshold >= 0.9"]
    )


def test_unscored_count_can_be_gated(setup, pytester: pytest.Pytester) -> None:
    assert pytester.runpytest("--llmjudge-threshold", "unscored<=2").ret == 0
    result = pytester.runpytest("--llmjudge-threshold", "unscored<2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*unscored = 2.000, threshold < 2"])


def test_judge_exception_becomes_an_unscored_case(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]))
    pytester.makepyfile(
        test_raises="""
        import pytest
        from pytest_llmjudge import Judge

        def flaky(case):
            if case.id == "c2":
                raise TimeoutError("server took too long")
            return 1

        @pytest.mark.llmjudge(dataset="cases.jsonl",
                              judges=[Judge(name="flaky", backend="function", function=flaky)])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest("-rx", "--llmjudge-report", "report.json")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL*flaky-c2] - unscored: TimeoutError: server took too long"])
    case = project.report()["runs"][0]["cases"][1]
    assert (case["prediction"], case["error"]) == (None, "TimeoutError: server took too long")


@pytest.mark.parametrize("value", ["maybe", "WRONG", ""])
def test_bad_ini_unscored_is_a_usage_error(project, pytester: pytest.Pytester, value: str) -> None:
    project.ini(f"llmjudge_unscored = {value}\n")
    project.cases(project.make_rows([1]))
    project.scripted()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: invalid llmjudge_unscored = '{value}': expected one of wrong, exclude"]
    )
    assert project.calls() == []


def test_bad_cli_unscored_is_a_usage_error(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1]))
    project.scripted()
    result = pytester.runpytest("--llmjudge-unscored", "maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --llmjudge-unscored: invalid choice: 'maybe'*"])
