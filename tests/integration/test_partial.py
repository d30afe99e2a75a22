"""A partly selected run (-k, --lf, --deselect, node ids) is marked partial; its gates are
reported but not applied unless --llmjudge-gate-partial."""

from __future__ import annotations

import pytest

TARGETS = [1, 0] * 10  # 20 cases, c1..c20


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    project.scripted(answers={"c4": 1}, extra=', thresholds=["f1>=0.8", "accuracy>=0.9"]')
    return project


@pytest.mark.parametrize("xdist", [False, True])
def test_a_k_selection_is_partial_and_its_gates_are_not_applied(
    setup, pytester: pytest.Pytester, xdist: bool
) -> None:
    args = ["-k", "c4", "--llmjudge-report=report.json"] + (["-n", "2", "-p", "xdist"] * xdist)
    result = pytester.runpytest(*args)
    result.assert_outcomes(xfailed=1)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    out = result.stdout.str()
    assert "partial: 1 of 20 cases" in out
    assert "FAILED gate" not in out
    result.stdout.fnmatch_lines(
        [
            "gate not applied (partial run): judge scripted on cases: accuracy = 0.000*",
            "partial: 1 of 20 cases selected for judge scripted on cases: its gates are reported,"
            " not applied (--llmjudge-gate-partial applies them)",
        ]
    )
    assert "gate failed" not in result.stdout.lines[-1]
    (run,) = setup.report()["runs"]
    assert (run["partial"], run["selected"], run["total"]) == (True, 1, 20)
    assert run["gates_applied"] is False
    assert run["passed"] is True
    assert [t["passed"] for t in run["thresholds"]] == [False, False]  # reported


def test_gate_partial_applies_them(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-k", "c4", "--llmjudge-gate-partial")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAILED gate: judge scripted on cases: accuracy = 0.000*"])
    assert "2 gates failed" in result.stdout.lines[-1]


def test_ini_gate_partial(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_gate_partial = true\n")
    assert pytester.runpytest("-k", "c4").ret == pytest.ExitCode.TESTS_FAILED


def test_deselect_and_node_ids_are_partial_too(setup, pytester: pytest.Pytester) -> None:
    deselect = pytester.runpytest("--deselect", "test_eval.py::test_eval[scripted-c1]")
    assert "partial: 19 of 20 cases" in deselect.stdout.str()
    node = pytester.runpytest("test_eval.py::test_eval[scripted-c2]")
    assert "partial: 1 of 20 cases" in node.stdout.str()


def test_a_whole_run_is_not_partial(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-report=report.json")
    assert "partial:" not in result.stdout.str()
    (run,) = setup.report()["runs"]
    assert (run["partial"], run["selected"], run["total"]) == (False, 20, 20)
    assert result.ret == pytest.ExitCode.OK  # accuracy 0.95, f1 >= 0.8


def test_regate_keeps_a_partial_run_partial(setup, pytester: pytest.Pytester) -> None:
    from pytest_llmjudge.outputs.regate import main

    pytester.runpytest("-k", "c4", "--llmjudge-report=report.json")
    report = str(setup.path / "report.json")
    assert main([report]) == 0
    assert main([report, "--gate-partial"]) == 1
