"""A judge that gives probabilities: brier and ece in the report, the terminal and the HTML
(with its reliability diagram), gates on them, and the same under pytest-xdist."""

from __future__ import annotations

import pytest
from conftest import Project, make_rows

MODULE = """
import pytest
from pytest_llmjudge import Judge, Verdict

def sure(case):  # right on every case; half of them with a probability off the mark
    number = int(case.id[1:])
    p = 0.8 if case.target == 1 else 0.3
    return Verdict(prediction=case.target,
                   probability=p if number % 4 in (1, 2) else float(case.target))

@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[Judge(name="p", backend="function",
                      function=sure)], thresholds={thresholds!r})
def test_eval(llmjudge_result):
    llmjudge_result.check()

@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[Judge(name="plain", backend="function",
                      function=lambda case: case.target)])
def test_plain(llmjudge_result):
    llmjudge_result.check()
"""


def write(project: Project, thresholds: list[str]) -> None:
    project.cases(make_rows([1, 0] * 10))
    project.pytester.makepyfile(test_eval=MODULE.format(thresholds=thresholds))


def test_probabilities_give_brier_ece_and_a_reliability_diagram(project: Project) -> None:
    write(project, ["ece<=0.5", "brier<=0.01"])
    result = project.pytester.runpytest("--llmjudge-report=r.json", "--llmjudge-html=r.html")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # brier 0.0325 > 0.01
    runs = {r["judge"]: r for r in project.report("r.json")["runs"]}
    m = runs["p"]["metrics"]
    # c1, c2, c5, c6, ...: (0.8 - 1)^2 = 0.04 or (0.3 - 0)^2 = 0.09; the other 10 exact
    assert m["brier"] == pytest.approx((5 * 0.04 + 5 * 0.09) / 20) and m["calibrated"] == 20
    assert m["ece"] == pytest.approx((5 * 0.2 + 5 * 0.3) / 20)
    assert m["ece_ci"][0] <= m["ece"] <= m["ece_ci"][1]
    bins = runs["p"]["reliability"]
    assert [b["n"] for b in bins] == [5, 0, 0, 5, 0, 0, 0, 0, 5, 5]
    assert runs["plain"]["metrics"]["brier"] is None and runs["plain"]["reliability"] is None
    result.stdout.fnmatch_lines(
        [
            "calibration: judge p on cases: brier 0.032 *, ece 0.125 * (10 bins; 20 cases*",
            "FAILED gate: judge p on cases: brier = 0.032, threshold <= 0.01*",
        ]
    )
    result.stdout.no_fnmatch_line("calibration: judge plain*")
    html = (project.path / "r.html").read_text()
    assert html.count('aria-label="reliability diagram"') == 1 and "Brier score" in html


def test_the_same_under_xdist(project: Project) -> None:
    write(project, [])
    project.pytester.runpytest("--llmjudge-report=serial.json")
    project.pytester.runpytest("-n", "2", "-p", "xdist", "--llmjudge-report=xdist.json")
    serial, xdist = (
        {r["judge"]: (r["metrics"], r["reliability"]) for r in project.report(n)["runs"]}
        for n in ("serial.json", "xdist.json")
    )
    assert serial == xdist
