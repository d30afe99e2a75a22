"""--llmjudge-gate-on: thresholds on the point estimate or the interval's bound; n too small."""

from __future__ import annotations

import pytest

# 20 cases, the scripted judge is wrong on c1 and c2: accuracy 0.9, Wilson 95% [0.699, 0.972]
TARGETS = [i % 2 for i in range(1, 21)]
WRONG = {"c1": 0, "c2": 1}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    project.scripted(answers=WRONG)
    return project


def test_point_passes_and_warns_that_n_is_too_small(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-threshold", "accuracy>=0.8")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "scripted*cases*20*0.900 [[]0.70, 0.97[]]*accuracy>=0.8 ok",
            "WARNING: judge scripted on cases: 20 cases cannot show accuracy >= 0.8: the point "
            "estimate 0.900 meets it, its 95% interval [[]0.699, 0.972[]] does not; about * "
            "cases at this rate would be needed",
        ]
    )


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_lower_bound_fails_what_the_point_passes(setup, pytester, how: str) -> None:  # type: ignore[no-untyped-def]
    args = ["--llmjudge-threshold", "accuracy>=0.8"]
    if how == "cli":
        args += ["--llmjudge-gate-on", "lower-bound"]
    else:
        setup.ini("llmjudge_gate_on = lower-bound\n")
    result = pytester.runpytest(*args, "--llmjudge-report", "report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAILED gate: judge scripted on cases: accuracy lower bound = 0.699 (point 0.900), "
            "threshold >= 0.8",
            "WARNING: judge scripted on cases: 20 cases cannot show accuracy >= 0.8*",
        ]
    )
    (threshold,) = setup.report()["runs"][0]["thresholds"]
    assert threshold["basis"] == "lower bound" and threshold["point"] == pytest.approx(0.9)
    assert threshold["actual"] == pytest.approx(0.699, abs=5e-4)


def test_lower_bound_passes_a_resolved_threshold(setup, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest(
        "--llmjudge-gate-on", "lower-bound", "--llmjudge-threshold", "accuracy>=0.65"
    )
    assert result.ret == 0
    assert "WARNING" not in result.stdout.str()


def test_report_has_every_interval(setup, pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.runpytest("--llmjudge-report", "report.json")
    metrics = setup.report()["runs"][0]["metrics"]
    for name in ("accuracy", "precision", "recall", "f1"):
        lo, hi = metrics[f"{name}_ci"]
        assert lo <= metrics[name] <= hi


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--llmjudge-gate-on", "upper"], "", "*argument --llmjudge-gate-on: invalid choice*"),
        ([], "llmjudge_gate_on = upper\n", "*invalid llmjudge_gate_on = 'upper'*"),
        (["--llmjudge-alpha", "1.5"], "", "*--llmjudge-alpha*must be strictly between 0 and 1*"),
        ([], "llmjudge_tolerance = auc=0.1\n", "*llmjudge_tolerance: invalid tolerance*"),
    ],
)
def test_bad_values_are_usage_errors(setup, pytester, args, ini, message) -> None:  # type: ignore[no-untyped-def]
    if ini:
        setup.ini(ini)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
