"""--llmjudge-columns (ini llmjudge_columns) chooses the judge metrics of the terminal table."""

from __future__ import annotations

import pytest


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1, 0, 1, 0, 1, 0]))
    project.scripted(answers={"c1": 0})
    return project


def test_the_default_columns(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        ["judge*dataset*n*unscored*accuracy [[]95% CI]*precision*recall*f1 [[]95% CI]*gates"]
    )
    assert "kappa" not in result.stdout.str()


def test_chosen_columns_with_intervals_and_counts(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-columns", "kappa,mcc,balanced_accuracy,scored")
    result.stdout.fnmatch_lines(
        [
            "judge*n*unscored*kappa [[]95% CI]*mcc [[]95% CI]*balanced_accuracy [[]95% CI]*scored*",
            "scripted*cases*8*0*0.750 [[]*]*0.775 [[]*]*0.875 [[]*]*8*-",
        ]
    )
    assert "precision [95% CI]" not in result.stdout.str()


def test_ini_columns_and_an_unknown_name(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_columns = accuracy, specificity\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["judge*accuracy [[]95% CI]*specificity [[]95% CI]*gates"])
    bad = pytester.runpytest("--llmjudge-columns", "kapa")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*llmjudge_columns: unknown metric 'kapa'; did you mean 'kappa'?*"])
