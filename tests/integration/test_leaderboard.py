"""The leaderboard of the judges evaluated on one dataset: in the report, the terminal and the
HTML, the same under pytest-xdist and through evaluate(), ranked on --llmjudge-rank-by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Project, make_rows

MODULE = """
import pytest
from pytest_llmjudge import Judge

def wrong_on(name, ids):
    return Judge(name=name, backend="function",
                 function=lambda case: 1 - case.target if case.id in ids else case.target)

RIGHT = wrong_on("right", set())
SOME = wrong_on("some", {{"c1", "c3"}})
MANY = wrong_on("many", {{f"c{{i}}" for i in range(1, 21)}})


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[MANY, SOME, RIGHT])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def write(project: Project) -> None:
    project.cases(make_rows([1, 0] * 15))  # c1..c30
    project.pytester.makepyfile(test_eval=MODULE.format())


def test_judges_on_one_dataset_are_ranked_and_compared(project: Project) -> None:
    write(project)
    result = project.pytester.runpytest("--llmjudge-report=r.json", "--llmjudge-html=r.html")
    board = project.report("r.json")["leaderboard"]["cases"]
    assert [s["judge"] for s in board["standings"]] == ["right", "some", "many"]
    assert board["groups"] == {"A": ["right", "some"], "B": ["many"]}
    pair = next(p for p in board["pairs"] if {p["first"], p["second"]} == {"right", "many"})
    assert (pair["cases"], pair["only_first"], pair["only_second"]) == (30, 20, 0)
    assert pair["distinct"] and pair["p_adjusted"] < 0.05
    result.stdout.fnmatch_lines(
        [
            "leaderboard on cases (ranked on accuracy; pairs: exact McNemar, Holm-corrected*",
            "*rank*group*judge*accuracy *",
            "*1*A*right*1.000 *0.89, 1.00*",
            "*2*A*some*0.933 *",
            "*3*B*many*0.333 *",
            "*told apart: right > many (p <0.001), some > many (p <0.001)",
            "*not told apart: 1 of 3 pairs*",
        ]
    )
    html = (project.path / "r.html").read_text()
    assert "<h2>Leaderboard on cases</h2>" in html and "<td>right vs many</td>" in html


def test_the_same_under_xdist_and_ranked_on_a_chosen_metric(project: Project) -> None:
    write(project)
    project.pytester.runpytest("--llmjudge-report=serial.json", "--llmjudge-rank-by=kappa")
    project.pytester.runpytest(
        "-n", "2", "-p", "xdist", "--llmjudge-report=xdist.json", "--llmjudge-rank-by=kappa"
    )
    serial, xdist = (project.report(n)["leaderboard"] for n in ("serial.json", "xdist.json"))
    assert serial == xdist and serial["cases"]["metric"] == "kappa"
    kappas = [s["value"] for s in serial["cases"]["standings"]]
    assert kappas == sorted(kappas, reverse=True) and kappas[0] == 1.0


def test_one_judge_makes_no_leaderboard_and_a_bad_metric_is_refused(project: Project) -> None:
    project.cases(make_rows([1, 0]))
    project.pytester.makepyfile(
        test_eval=MODULE.format().replace("judges=[MANY, SOME, RIGHT]", "judges=[RIGHT]")
    )
    project.pytester.runpytest("--llmjudge-report=r.json")
    assert project.report("r.json")["leaderboard"] == {}
    bad = project.pytester.runpytest("--llmjudge-rank-by=acuracy")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(
        ["*llmjudge_rank_by: unknown metric 'acuracy'; did you mean 'accuracy'*"]
    )


def test_evaluate_returns_the_leaderboard(tmp_path: Path) -> None:
    from pytest_llmjudge import Judge, evaluate
    from pytest_llmjudge.errors import ConfigError
    from pytest_llmjudge.settings import OutputSettings

    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_rows([1, 0] * 10)))
    judges = [
        Judge(name="good", backend="function", function=lambda case: case.target),
        Judge(name="coin", backend="function", function=lambda case: int(case.id[1:]) % 3 == 0),
    ]
    result = evaluate(path, judges, rootdir=tmp_path)
    board = result.leaderboard()
    assert [s.judge for s in board.standings] == ["good", "coin"]
    assert result.to_report()["leaderboard"]["cases"] == board.as_dict()
    with pytest.raises(ConfigError, match="outputs.rank_by: unknown metric 'f2'"):
        evaluate(path, judges, rootdir=tmp_path, outputs=OutputSettings(rank_by="f2"))


def test_one_judge_in_two_tests_is_not_ranked_against_itself(project: Project) -> None:
    project.cases(make_rows([1, 0] * 3))
    once = MODULE.format().replace("judges=[MANY, SOME, RIGHT]", "judges=[RIGHT]")
    tests = once.split("\n\n\n@pytest.mark", 1)[1].replace("def test_eval", "def test_again")
    project.pytester.makepyfile(test_eval=once + "\n\n@pytest.mark" + tests)
    project.pytester.runpytest("--llmjudge-report=r.json")
    report = project.report("r.json")
    assert len(report["runs"]) == 2 and report["leaderboard"] == {}
