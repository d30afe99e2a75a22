"""A generator run whose judge was measured on labelled cases in the same session reports its
hallucination rate corrected for the judge's errors (Rogan-Gladen), gateable; given rates too."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Project
from fakes.generator_project import rows

from pytest_llmjudge.scoring.correction import JudgeRates, rogan_gladen

# The judge: inconsistent when the summary mentions Martians, except that it misses j1 and j2
# and flags j11: on the 10 inconsistent and 10 consistent labelled cases, sensitivity 0.8 and
# specificity 0.9. The generator hallucinates (Martians) on g1..g4 of 10 cases.
MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

MISSED, FLAGGED = {{"j1", "j2"}}, {{"j11"}}


def judge(case):
    if case.id in MISSED:
        return 1
    if case.id in FLAGGED:
        return 0
    return 0 if "Martians" in case.hypothesis else 1


def write(case, sampling):
    if case.id in {{"g1", "g2", "g3", "g4"}}:
        return "It was built by Martians."
    return case.reference


JUDGE = Judge(name="fn", backend="function", function=judge)
WRITER = Generator(name="writer", backend="function", function=write)


@pytest.mark.llmjudge(dataset="labelled.jsonl", judges=[JUDGE])
def test_judge(llmjudge_result):
    llmjudge_result.check()


@pytest.mark.llmjudge_generator(
    dataset="gen.jsonl", generators=[WRITER], judge=JUDGE, thresholds={thresholds!r}{extra}
)
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""


def labelled() -> list[dict[str, Any]]:
    return [
        {
            "id": f"j{i}",
            "premise": f"Tower {i} was built in {1900 + i}.",
            "hypothesis": f"Tower {i} was built by Martians." if i <= 10 else f"Tower {i} stands.",
            "target": 0 if i <= 10 else 1,
        }
        for i in range(1, 21)
    ]


def make(project: Project, thresholds: list[str], extra: str = "") -> None:
    project.cases(labelled(), name="labelled")
    project.cases(rows(10), name="gen")
    module = MODULE.format(thresholds=thresholds, extra=extra)
    project.pytester.makepyfile(test_corrected=module)


@pytest.mark.parametrize("xdist", [False, True])
def test_measured_in_the_session(project: Project, xdist: bool) -> None:
    make(project, ["hallucination_rate_corrected<=0.2"])
    args = ["--llmjudge-report=report.json", "--llmjudge-html=r.html"]
    result = project.pytester.runpytest(*args, *(["-n", "2", "-p", "xdist"] * xdist))
    (run,) = project.report()["generator_runs"]
    m = run["metrics"]
    expected = rogan_gladen(4, 10, JudgeRates(0.8, 0.9, 10, 10))
    assert m["judge_rates"] == {
        "sensitivity": 0.8,
        "specificity": 0.9,
        "inconsistent": 10,
        "consistent": 10,
        "source": "judge fn on labelled",
    }
    assert m["hallucination_rate"] == 0.4
    assert m["hallucination_rate_corrected"] == pytest.approx(expected.rate)  # (0.4-0.1)/0.7
    assert m["hallucination_rate_corrected_ci"] == pytest.approx(list(expected.interval or ()))
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # 0.43 > 0.2
    result.stdout.fnmatch_lines(
        [
            "FAILED gate: generator writer at t0 on gen: hallucination_rate_corrected = "
            "0.429, threshold <= 0.2",
            "generator writer at t0 on gen: hallucination rate corrected for the judge's "
            "errors 0.429 * (raw over the labelled answers 0.400; sensitivity 0.80 on 10 "
            "inconsistent and specificity 0.90 on 10 consistent cases, judge fn on labelled)",
        ]
    )
    assert "corrected for the judge&#x27;s errors" in (project.path / "r.html").read_text()


def test_given_rates_win_and_an_unknown_judge_leaves_it_undefined(project: Project) -> None:
    make(project, [], extra=', judge_rates={"sensitivity": 1.0, "specificity": 0.8}')
    project.pytester.runpytest("--llmjudge-report=report.json", "-k", "test_gen")
    m = project.report()["generator_runs"][0]["metrics"]
    assert m["judge_rates"]["source"] == "given"
    assert m["hallucination_rate_corrected"] == pytest.approx((0.4 + 0.8 - 1) / 0.8)
    make(project, ["hallucination_rate_corrected<=0.5"])
    result = project.pytester.runpytest("--llmjudge-report=report.json", "-k", "test_gen")
    m = project.report()["generator_runs"][0]["metrics"]
    assert m["hallucination_rate_corrected"] is None and m["judge_rates"] is None
    result.stdout.fnmatch_lines(["*hallucination_rate_corrected = n/a (unresolved: the judge's*"])


def test_bad_judge_rates_are_an_error(project: Project) -> None:
    make(project, [], extra=', judge_rates={"sensitivity": 2}')
    result = project.pytester.runpytest()
    result.stdout.fnmatch_lines(["*judge_rates:*(keys: sensitivity, specificity*"])
