"""Slices: Dataset(slice_by=...) reports every run's metrics per slice, gates can target one
("source=news:recall>=0.8"), a small slice gets the "cannot show" warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Project, make_rows

MODULE = """
import pytest
from pytest_llmjudge import Dataset, Judge

WRONG = {wrong!r}
JUDGE = Judge(
    name="j", backend="function",
    function=lambda case: 1 - case.target if case.id in WRONG else case.target,
)


@pytest.mark.llmjudge(
    dataset=Dataset(path="cases.jsonl", slice_by={slice_by!r}),
    judges=[JUDGE],
    thresholds={thresholds!r},
)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def rows() -> list[dict[str, object]]:
    """c1..c12: c1-c8 from news (c7, c8 tagged long), c9-c12 from sport (c12 long)."""
    found = []
    for row in make_rows([1, 0] * 6):
        number = int(str(row["id"])[1:])
        row["source"] = "news" if number <= 8 else "sport"
        row["tags"] = ["long"] if number in (7, 8, 12) else []
        found.append(row)
    return found


def write(project: Project, slice_by: object, thresholds: list[str], wrong: set[str]) -> None:
    project.cases(rows())
    module = MODULE.format(wrong=wrong, slice_by=slice_by, thresholds=thresholds)
    project.pytester.makepyfile(test_eval=module)


def test_each_slice_has_its_metrics_and_gates(project: Project) -> None:
    write(project, ["source", "tags"], ["source=sport:recall>=0.8"], {"c9", "c11"})
    result = project.pytester.runpytest("--llmjudge-report=report.json", "--llmjudge-html=r.html")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # sport's recall is 0.0
    (run,) = project.report()["runs"]
    assert list(run["slices"]) == ["source=news", "tags=long", "source=sport"]
    news, sport = run["slices"]["source=news"], run["slices"]["source=sport"]
    assert (news["n"], news["accuracy"]) == (8, 1.0)
    assert (sport["n"], sport["accuracy"], sport["recall"]) == (4, 0.5, 0.0)
    assert run["slices"]["tags=long"]["n"] == 3
    assert run["cases"][6]["slices"] == ["source=news", "tags=long"]
    (gate,) = run["thresholds"]
    assert (gate["slice"], gate["actual"], gate["passed"]) == ("source=sport", 0.0, False)
    result.stdout.fnmatch_lines(
        [
            "slice of*dataset*slice*n*unscored*accuracy*",
            "j*cases*source=news*8*0*1.000 *",
            "j*cases*tags=long*3*",
            "j*cases*source=sport*4*0*0.500 *",
            "FAILED gate: judge j on cases (slice source=sport): recall = 0.000, threshold >= 0.8",
        ]
    )
    html = (project.path / "r.html").read_text()
    assert "<h3>Slices</h3>" in html and "<td>source=sport</td>" in html
    assert "recall &gt;= 0.8" in html or "recall >= 0.8" in html


def test_a_small_slice_cannot_show_its_gate(project: Project) -> None:
    write(project, "source", ["source=sport:accuracy>=0.6"], set())
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["WARNING: judge j on cases: 4 cases of source=sport cannot show accuracy >= 0.6*"]
    )


def test_a_slice_with_no_case_fails_and_names_the_slices(project: Project) -> None:
    write(project, "source", ["source=sprot:accuracy>=0.6"], set())
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED gate: judge j on cases (slice source=sprot): *did you mean 'source=sport'*"]
    )


def test_a_slice_gate_by_a_key_no_dataset_slices_by_is_an_error(project: Project) -> None:
    write(project, "source", ["topic=x:accuracy>=0.6"], set())
    result = project.pytester.runpytest()
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*targets a slice by 'topic'*"])
    write(project, "source", [], set())
    cli = project.pytester.runpytest("--llmjudge-threshold=topic=x:f1>=0.5")
    assert cli.ret == pytest.ExitCode.USAGE_ERROR
    cli.stderr.fnmatch_lines(["*targets a slice by 'topic'*"])


def test_a_row_without_the_slice_key_is_an_error_with_its_line(project: Project) -> None:
    project.cases([*rows(), {"id": "x", "premise": "P.", "hypothesis": "H.", "target": 1}])
    module = MODULE.format(wrong=set(), slice_by="source", thresholds=[])
    project.pytester.makepyfile(test_eval=module)
    result = project.pytester.runpytest()
    result.stdout.fnmatch_lines(["*cases.jsonl:13*missing field 'source' (slice_by='source')*"])


def test_under_xdist_and_through_evaluate_the_same(project: Project, tmp_path: Path) -> None:
    write(project, ["source", "tags"], [], {"c9"})
    project.pytester.runpytest("--llmjudge-report=serial.json")
    project.pytester.runpytest("-n", "2", "-p", "xdist", "--llmjudge-report=xdist.json")
    serial, xdist = (project.report(n)["runs"][0]["slices"] for n in ("serial.json", "xdist.json"))
    assert serial == xdist

    from pytest_llmjudge import Dataset, Judge, evaluate

    path = tmp_path / "api.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows()))
    judge = Judge(
        name="j",
        backend="function",
        function=lambda case: 1 - case.target if case.id == "c9" else case.target,
    )
    result = evaluate(
        Dataset(path=path, slice_by=("source", "tags")), [judge], ["source=sport:f1>=0.9"]
    )
    assert result.runs[0].slices["source=sport"].accuracy == serial["source=sport"]["accuracy"]
    assert not result.passed
