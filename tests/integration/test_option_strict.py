"""--llmjudge-strict / llmjudge_strict: mismatched and unscored cases fail their items."""

from __future__ import annotations

import pytest

ANSWERS = {"c2": 1, "c3": "not json"}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1, 0]))
    project.scripted(answers=ANSWERS)
    return project


def test_default_mismatches_xfail(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-rx")
    result.assert_outcomes(passed=2, xfailed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "XFAIL *[[]scripted-c2] - mismatch: target 0, judge 'scripted' said 1*",
            "XFAIL test_eval.py::test_eval[[]scripted-c3] - unscored: model output is not JSON",
        ]
    )


def test_cli_strict_fails_them(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-strict")
    result.assert_outcomes(passed=2, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ test_eval[[]scripted-c2] _*",
            "mismatch: target 0, judge 'scripted' said 1: (no reason given)",
            "*_ test_eval[[]scripted-c3] _*",
            "unscored: model output is not JSON",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_ini_strict(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_strict = true\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["llmjudge: *, strict"])


def test_ini_strict_false_keeps_xfail(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_strict = false\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, xfailed=2)
