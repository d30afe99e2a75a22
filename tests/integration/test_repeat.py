"""repeat=N: each case judged N times (N requests, each cached on its own), one item per case
with the majority verdict, flaky cases named, `flaky` and `self_consistency` gated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Project, make_rows

# Which repetitions contradict the target: c2 and c3 once in three, c4 twice (its majority is
# wrong); c1, c5 and c6 are unanimous.
FLIPPING_MODULE = """
import json

import pytest
from pytest_llmjudge import Judge

FLIPS = {{("c2", 1), ("c3", 2), ("c4", 1), ("c4", 2)}}


def flipping(case):
    with open("calls.jsonl", "a") as f:
        f.write(json.dumps([case.id, case.repeat]) + "\\n")
    return 1 - case.target if (case.id, case.repeat) in FLIPS else case.target


JUDGE = Judge(name="flip", backend="function", function=flipping)


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE]{extra})
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""
TARGETS = [1, 0, 1, 0, 1, 0]


def flipping(project: Project, extra: str = ", repeat=3") -> None:
    project.cases(make_rows(TARGETS))
    project.pytester.makepyfile(test_eval=FLIPPING_MODULE.format(extra=extra))


def calls(project: Project) -> list[tuple[str, int]]:
    lines = (project.path / "calls.jsonl").read_text().splitlines()
    return [tuple(json.loads(line)) for line in lines]  # type: ignore[misc]


def test_each_case_is_judged_n_times_and_reported_once(project: Project) -> None:
    flipping(project, ', repeat=3, thresholds=["flaky<=0.05"]')
    result = project.pytester.runpytest(
        "--llmjudge-report=report.json", "--junitxml=junit.xml", "--llmjudge-html=r.html"
    )
    result.assert_outcomes(passed=5, xfailed=1)  # one item per case: c4's majority is wrong
    assert sorted(calls(project)) == sorted((f"c{i}", k) for i in range(1, 7) for k in range(3))
    (run,) = project.report()["runs"]
    assert run["repeat"] == 3
    cases = {c["id"]: c for c in run["cases"]}
    assert cases["c4"]["verdicts"] == [0, 1, 1] and cases["c4"]["prediction"] == 1
    assert cases["c2"]["agreement"] == pytest.approx(2 / 3) and cases["c2"]["flaky"] is True
    assert cases["c1"]["verdicts"] == [1, 1, 1] and cases["c1"]["flaky"] is False
    metrics = run["metrics"]
    assert metrics["flaky"] == pytest.approx(0.5) and metrics["repeated"] == 6
    assert metrics["self_consistency"] == pytest.approx((3 + 3 * 2 / 3) / 6)
    assert metrics["flaky_ci"][0] < 0.5 < metrics["flaky_ci"][1]
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # flaky<=0.05 fails
    result.stdout.fnmatch_lines(
        [
            "FAILED gate: judge flip on cases: flaky = 0.500*",
            "judge flip on cases: 3 of 6 cases flaky over 3 repetitions (flaky 0.500 *, "
            "self-consistency 0.833 *); flakiest: c2 (0,1,0), c3 (1,1,0), c4 (0,1,1)",
        ]
    )
    assert 'name="llmjudge.verdicts" value="0,1,1"' in (project.path / "junit.xml").read_text()
    html = (project.path / "r.html").read_text()
    assert "flaky cases" in html and "repetitions: 0, 1, 1" in html


def test_a_tie_is_unscored_and_the_command_line_overrides_the_marker(project: Project) -> None:
    flipping(project)
    result = project.pytester.runpytest(
        "--llmjudge-repeat=2", "--llmjudge-report=report.json", "-rx"
    )
    assert len(calls(project)) == 12
    cases = {c["id"]: c for c in project.report()["runs"][0]["cases"]}
    assert cases["c2"]["prediction"] is None and cases["c2"]["error"] == "tie"
    assert cases["c2"]["verdicts"] == [0, 1]
    result.stdout.fnmatch_lines(
        ["XFAIL*c2* - unscored: tie: the repetitions split evenly: 1 said 0, 1 said 1*"]
    )
    result.assert_outcomes(passed=4, xfailed=2)


def test_ini_repeat_and_judged_once_by_default(project: Project) -> None:
    flipping(project, extra="")
    project.pytester.runpytest("--llmjudge-report=report.json")
    (run,) = project.report()["runs"]
    assert len(calls(project)) == 6 and run["repeat"] == 1
    assert run["metrics"]["flaky"] is None  # undefined with one repetition: null, never 0
    assert run["cases"][0]["verdicts"] == [1] and run["cases"][0]["flaky"] is None
    (project.path / "calls.jsonl").unlink()
    project.ini("llmjudge_repeat = 2\n")
    project.pytester.runpytest("--llmjudge-report=report.json")
    assert len(calls(project)) == 12 and project.report()["runs"][0]["repeat"] == 2


def test_a_bad_repeat_is_an_error(project: Project) -> None:
    flipping(project, extra=", repeat=0")
    result = project.pytester.runpytest()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*repeat: expected a positive integer*got 0*"])


def test_under_xdist_the_same_as_serially(project: Project) -> None:
    flipping(project)
    project.pytester.runpytest("--llmjudge-report=serial.json")
    result = project.pytester.runpytest("-n", "2", "-p", "xdist", "--llmjudge-report=xdist.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    serial, xdist = (_comparable(project.report(name)) for name in ("serial.json", "xdist.json"))
    assert xdist == serial
    result.stdout.fnmatch_lines(["*3 of 6 cases flaky over 3 repetitions*"])


def test_each_repetition_is_its_own_request_and_cache_entry(chat_project: Project) -> None:
    server: Any = chat_project.server  # type: ignore[attr-defined]
    pytester = chat_project.pytester
    pytester.runpytest("--llmjudge-repeat=3")
    assert server.count == 18
    pytester.runpytest("--llmjudge-repeat=3")
    assert server.count == 18, "a rerun is answered from the cache"
    result = pytester.runpytest("--llmjudge-repeat=4")
    assert server.count == 24, "raising N sends only the new repetitions"
    result.stdout.fnmatch_lines(
        [
            "*6 cases x 4 repetitions, 18 cached, 6 requests*",
            "*judge m on cases: 6 cases x 4 repetitions (24 answers), 18 from the cache, "
            "6 requests sent",
        ]
    )


def test_evaluate_repeats_too(tmp_path: Path) -> None:
    from pytest_llmjudge import Judge, evaluate

    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_rows(TARGETS)))
    judge = Judge(
        name="alternating",
        backend="function",
        function=lambda case: case.target if case.repeat % 2 == 0 else 1 - case.target,
    )
    result = evaluate(path, [judge], repeat=3, thresholds=["flaky<=0.05"])
    (run,) = result.runs
    assert run.metrics.flaky == 1.0 and run.metrics.accuracy == 1.0
    assert not result.passed
    assert result.to_report()["runs"][0]["cases"][0]["verdicts"] == [1, 0, 1]


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    for run in report["runs"]:
        for case in run["cases"]:
            case.pop("latency_s")
    return report
