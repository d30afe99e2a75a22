"""Thresholds gate the exit status, from the command line, the ini file and the marker."""

from __future__ import annotations

import pytest

# 10 cases, the scripted judge is wrong on c1 (target 1) and c2 (target 0):
# tp=4 fp=1 tn=4 fn=1 -> accuracy 0.8, precision 0.8, recall 0.8, f1 0.8
TARGETS = [1, 0, 1, 1, 1, 1, 0, 0, 0, 0]
WRONG = {"c1": 0, "c2": 1}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    return project


def gate_line(judge: str, metric: str, actual: str, op: str, value: str) -> str:
    return f"FAILED gate: judge {judge} on cases: {metric} = {actual}, threshold {op} {value}"


def test_cli_threshold_passing(setup, pytester: pytest.Pytester) -> None:
    setup.scripted(answers=WRONG)
    result = pytester.runpytest("--llmjudge-threshold", "accuracy>=0.8")
    result.assert_outcomes(passed=8, xfailed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*llmjudge summary*",
            "judge*dataset*n*accuracy*",
            "scripted*cases*10*0.800*accuracy>=0.8 ok",
        ]
    )
    assert "FAILED gate" not in result.stdout.str()


def test_cli_threshold_failing(setup, pytester: pytest.Pytester) -> None:
    setup.scripted(answers=WRONG)
    result = pytester.runpytest("--llmjudge-threshold", "f1>=0.9")
    result.assert_outcomes(passed=8, xfailed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([gate_line("scripted", "f1", "0.800", ">=", "0.9")])


def test_several_cli_thresholds_each_reported(setup, pytester: pytest.Pytester) -> None:
    setup.scripted(answers=WRONG)
    result = pytester.runpytest(
        "--llmjudge-threshold",
        "precision>=0.9",
        "--llmjudge-threshold",
        "recall>0.8",
        "--llmjudge-threshold",
        "accuracy>=0.5",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            gate_line("scripted", "precision", "0.800", ">=", "0.9"),
            gate_line("scripted", "recall", "0.800", ">", "0.8"),
        ]
    )
    assert "accuracy = " not in result.stdout.str()


def test_ini_thresholds(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_thresholds =\n    accuracy>=0.75\n    recall>=0.95\n")
    setup.scripted(answers=WRONG)
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines([gate_line("scripted", "recall", "0.800", ">=", "0.95")])
    assert "accuracy = " not in result.stdout.str()


def test_ini_thresholds_passing(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_thresholds = accuracy>=0.75\n")
    setup.scripted(answers=WRONG)
    result = pytester.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*accuracy>=0.75 ok"])


@pytest.mark.parametrize(
    ("thresholds", "ret"),
    [
        ('["accuracy>=0.8"]', 0),
        ('{"f1": 0.8, "accuracy": 0.7}', 0),
        ('["accuracy>=0.85"]', 1),
        ('{"f1": 0.81}', 1),
    ],
)
def test_marker_thresholds(setup, pytester: pytest.Pytester, thresholds: str, ret: int) -> None:
    setup.scripted(answers=WRONG, extra=f", thresholds={thresholds}")
    result = pytester.runpytest()
    assert result.ret == ret
    assert ("FAILED gate: judge scripted on cases:" in result.stdout.str()) is bool(ret)


def test_marker_overrides_ini_and_cli_overrides_marker(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_thresholds = accuracy>=0.95\n")
    setup.scripted(answers=WRONG, extra=', thresholds=["accuracy>=0.8"]')
    assert pytester.runpytest().ret == 0  # marker 0.8 replaces ini 0.95
    result = pytester.runpytest("--llmjudge-threshold", "accuracy>=0.9")
    assert result.ret == 1  # CLI 0.9 replaces marker 0.8
    result.stdout.fnmatch_lines([gate_line("scripted", "accuracy", "0.800", ">=", "0.9")])


PER_JUDGE = """
import pytest
from pytest_llmjudge import Judge

def good(case):
    return case.target

def poor(case):
    return 1

@pytest.mark.llmjudge(
    dataset="cases.jsonl",
    judges=[
        Judge(name="good", backend="function", function=good),
        Judge(name="poor", backend="function", function=poor),
    ],
)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_per_judge_threshold_only_gates_that_judge(setup, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_judges=PER_JUDGE)
    # poor says 1 everywhere: accuracy 0.5; good is perfect
    ok = pytester.runpytest("--llmjudge-threshold", "good:accuracy>=0.9")
    assert ok.ret == 0
    ok.stdout.fnmatch_lines(["good *good:accuracy>=0.9 ok", "poor *-"])

    bad = pytester.runpytest("--llmjudge-threshold", "poor:accuracy>=0.9")
    assert bad.ret == 1
    bad.stdout.fnmatch_lines([gate_line("poor", "accuracy", "0.500", ">=", "0.9")])
    assert not [line for line in bad.stdout.lines if "FAILED" in line and "judge good" in line]


def test_unscoped_threshold_gates_every_judge(setup, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_judges=PER_JUDGE)
    result = pytester.runpytest("--llmjudge-threshold", "accuracy>=0.9")
    assert result.ret == 1
    assert result.stdout.str().count("FAILED gate:") == 1
    result.stdout.fnmatch_lines([gate_line("poor", "accuracy", "0.500", ">=", "0.9")])


def test_gate_fails_even_when_every_item_passes(setup, pytester: pytest.Pytester) -> None:
    setup.scripted()  # perfect judge, all items pass
    result = pytester.runpytest("--llmjudge-threshold", "n>=20")
    result.assert_outcomes(passed=10)
    assert result.ret == 1
    result.stdout.fnmatch_lines([gate_line("scripted", "n", "10.000", ">=", "20")])


@pytest.mark.parametrize("bad", ["f1>=", "auc>=0.5", "f1=0.8"])
def test_bad_cli_threshold_is_a_usage_error(setup, pytester: pytest.Pytester, bad: str) -> None:
    setup.scripted()
    result = pytester.runpytest("--llmjudge-threshold", bad)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*invalid threshold '{bad}'*"])


def test_bad_ini_threshold_is_a_usage_error(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_thresholds = accuracy>=high\n")
    setup.scripted()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llmjudge_thresholds: invalid threshold 'accuracy>=high'*"])


@pytest.mark.parametrize("plugin_args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_failing_gate_sets_the_exit_status_with_and_without_xdist(
    setup, pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    # Under xdist the workers judge the cases; the controller must still gate and summarise.
    setup.scripted(answers=WRONG)
    result = pytester.runpytest(*plugin_args, "--llmjudge-threshold", "accuracy>=0.9")
    result.assert_outcomes(passed=8, xfailed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([gate_line("scripted", "accuracy", "0.800", ">=", "0.9")])


@pytest.mark.parametrize("xdist", [False, True])
def test_failed_gates_show_in_pytests_last_line(
    setup, pytester: pytest.Pytester, xdist: bool
) -> None:
    setup.scripted(answers=WRONG)
    args = ["--llmjudge-threshold", "f1>=0.9", "--llmjudge-threshold", "n>=20"]
    result = pytester.runpytest(*args, *(["-n", "2", "-p", "xdist"] if xdist else []))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    last = result.stdout.lines[-1]
    assert "8 passed, 2 xfailed, 2 gates failed in" in last, last
    one = pytester.runpytest("--llmjudge-threshold", "f1>=0.9")
    assert "8 passed, 2 xfailed, 1 gate failed in" in one.stdout.lines[-1]
    fine = pytester.runpytest("--llmjudge-threshold", "f1>=0.5")
    assert "gate" not in fine.stdout.lines[-1]


def test_an_undefined_metric_is_na_and_its_gate_unresolved(project, pytester) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1, 0]))
    project.scripted(answers={"c1": 0, "c3": 0})  # never says 1: precision is undefined
    result = pytester.runpytest(
        "--llmjudge-threshold", "precision>=0.5", "--llmjudge-report=r.json"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "scripted*cases*4*0.500 [[]*]*n/a*0.000 [[]*]*0.000 [[]*]*precision>=0.5 FAILED",
            "FAILED gate: judge scripted on cases: precision = n/a (unresolved: the judge gave no "
            "positive verdict (TP + FP = 0)), threshold >= 0.5",
        ]
    )
    assert "0.000 [0.00, 1.00]" not in out  # an undefined metric never shows as 0
    (run,) = project.report("r.json")["runs"]
    assert run["metrics"]["precision"] is None and run["metrics"]["precision_ci"] is None
    (gate,) = run["thresholds"]
    assert gate["actual"] is None and gate["passed"] is False
    assert "no positive verdict" in gate["undefined"]
    pytester.runpytest("--llmjudge-html=r.html", "--junitxml=j.xml")
    html = (project.path / "r.html").read_text()
    assert '<td>precision</td><td class="num">n/a</td>' in html
    assert '<td>MCC</td><td class="num">n/a</td>' in html  # the agreement metrics, shown too
    assert "<td>Cohen&#x27;s kappa</td>" in html
    assert (
        'name="llmjudge.scripted.cases.precision" value="n/a"'
        in (project.path / "j.xml").read_text()
    )
