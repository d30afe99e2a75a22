"""--junitxml: case items carry target, prediction and reason; the suite carries run metrics."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fakes.generator_project import GENERATION_ERROR, HOSTILE_ANSWER, REASON, generator_project

from pytest_llmjudge.scoring.stats import wilson_interval

ANSWERS = {"c2": {"prediction": 1, "reason": 'looks <fine> & "ok"'}, "c3": "not json"}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 0, 1]))
    project.scripted(answers=ANSWERS, extra=', thresholds=["accuracy>=0.9"]')
    return project


def suite_of(path) -> ET.Element:  # type: ignore[no-untyped-def]
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    return suite


def props(element: ET.Element) -> dict[str, str]:
    node = element.find("properties")
    return {} if node is None else {p.get("name", ""): p.get("value", "") for p in node}


@pytest.mark.parametrize("plugin_args", [[], ["-p", "xdist", "-n", "2"]], ids=["serial", "xdist"])
def test_case_and_run_properties(setup, pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    result = pytester.runpytest("--junitxml", "junit.xml", *plugin_args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the accuracy gate fails
    suite = suite_of(setup.path / "junit.xml")
    cases = {c.get("name"): props(c) for c in suite.iter("testcase")}
    assert set(cases) == {f"test_eval[scripted-c{i}]" for i in range(1, 5)}
    c1, c2, c3 = (cases[f"test_eval[scripted-c{i}]"] for i in (1, 2, 3))
    assert c1["llmjudge.target"] == "1" and c1["llmjudge.prediction"] == "1"
    assert c1["llmjudge.correct"] == "true"
    assert (c2["llmjudge.target"], c2["llmjudge.prediction"]) == ("0", "1")
    assert c2["llmjudge.reason"] == 'looks <fine> & "ok"'  # escaped in the XML, intact when read
    assert c2["llmjudge.judge"] == "scripted" and c2["llmjudge.case"] == "c2"
    assert c3["llmjudge.prediction"] == "unscored"
    assert c3["llmjudge.error"] == "model output is not JSON"
    run = props(suite)
    assert run["llmjudge.scripted.cases.n"] == "4"
    assert run["llmjudge.scripted.cases.unscored"] == "1"
    assert float(run["llmjudge.scripted.cases.accuracy"]) == pytest.approx(0.5)
    low, high = map(float, run["llmjudge.scripted.cases.accuracy_ci"].split(","))
    assert 0 < low < 0.5 < high < 1
    for metric in ("precision", "recall", "f1"):
        assert f"llmjudge.scripted.cases.{metric}" in run
    assert run["llmjudge.scripted.cases.gate.accuracy>=0.9"] == "failed"
    assert run["llmjudge.scripted.cases.passed"] == "false"
    assert run["llmjudge.passed"] == "false"


def test_no_suite_properties_without_runs(project, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.runpytest("--junitxml", "junit.xml")
    assert props(suite_of(project.path / "junit.xml")) == {}


@pytest.mark.parametrize("junit", [False, True], ids=["without", "with"])
def test_case_properties_only_with_junitxml(setup, pytester: pytest.Pytester, junit: bool) -> None:
    args = ["--junitxml", "junit.xml"] if junit else []
    recorder = pytester.inline_run(*args)
    calls = [r for r in recorder.getreports("pytest_runtest_logreport") if r.when == "call"]

    assert len(calls) == 4
    names = [{name for name, _ in r.user_properties} for r in calls]
    if junit:
        assert all("llmjudge.prediction" in n for n in names)
    else:
        assert names == [set()] * 4


@pytest.mark.parametrize("plugin_args", [[], ["-p", "xdist", "-n", "2"]], ids=["serial", "xdist"])
def test_generator_runs_and_answers_beside_judge_runs(
    setup, pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    generator_project(
        setup,
        ', generators=[WRITER, TUNED], thresholds=["hallucination_rate<=0.3"], '
        'compare=("writer", "tuned")',
    )
    pytester.runpytest("--junitxml", "junit.xml", *plugin_args)
    suite = suite_of(setup.path / "junit.xml")
    run = props(suite)
    node = suite.find("properties")
    assert node is not None
    names = [p.get("name", "") for p in node]
    assert len(names) == len(set(names))  # no property twice
    judge_names = {n for n in names if n.startswith("llmjudge.scripted.")}
    generator_names = {n for n in names if n.startswith("llmjudge_generator.")}
    assert judge_names and generator_names
    assert set(names) == judge_names | generator_names | {"llmjudge.passed"}
    assert run["llmjudge.scripted.cases.n"] == "4"  # the judge run's names are unchanged
    writer = "llmjudge_generator.writer.t0.gen"
    assert run[f"{writer}.n"] == "5" and run[f"{writer}.unscored"] == "1"
    assert run[f"{writer}.hallucinated"] == "2"
    assert float(run[f"{writer}.hallucination_rate"]) == pytest.approx(0.4)
    assert float(run[f"{writer}.faithfulness"]) == pytest.approx(0.6)
    low, high = map(float, run[f"{writer}.hallucination_rate_ci"].split(","))
    assert (low, high) == pytest.approx(wilson_interval(2, 5), abs=1e-6)
    assert run[f"{writer}.gate.hallucination_rate<=0.3"] == "failed"
    assert run[f"{writer}.passed"] == "false"
    tuned = "llmjudge_generator.tuned.t0.gen"
    assert run[f"{tuned}.hallucination_rate"] == "0"
    assert run[f"{tuned}.gate.hallucination_rate<=0.3"] == "passed"
    assert run[f"{tuned}.baseline"] == "no significant difference"
    assert run["llmjudge.passed"] == "false"
    # each generator item: its answer's id, the judge's label and reason, the answer, clipped
    cases = {c.get("name"): props(c) for c in suite.iter("testcase")}
    g1, g2, g3 = (cases[f"test_gen[writer-t0-g{i}]"] for i in (1, 2, 3))
    assert g2["llmjudge.generator"] == "writer" and g2["llmjudge.point"] == "t0"
    assert g2["llmjudge.dataset"] == "gen" and g2["llmjudge.case"] == "g2"
    assert g2["llmjudge.answer.1.id"] == "g2#1"
    assert g2["llmjudge.answer.1.label"] == "0"
    assert g2["llmjudge.answer.1.reason"] == REASON  # escaped in the XML, intact when read
    assert g2["llmjudge.answer.1.text"] == HOSTILE_ANSWER
    assert g1["llmjudge.answer.1.label"] == "1"
    assert g3["llmjudge.answer.1.label"] == "unscored"
    assert GENERATION_ERROR in g3["llmjudge.answer.1.error"]
    assert "llmjudge.answer.1.text" not in g3  # no answer was written


def test_generator_answers_are_clipped_and_only_recorded_with_junitxml(
    project, pytester: pytest.Pytester
) -> None:
    generator_project(project, ", generators=[LONG], samples=2")
    path = project.path / "test_gen.py"
    path.write_text(
        path.read_text().replace(
            "MISTRAL =",
            'LONG = Generator(name="long", backend="function", '
            'function=lambda case, sampling: "word " * 1000)\nMISTRAL =',
        )
    )
    plain = pytester.inline_run()
    calls = [r for r in plain.getreports("pytest_runtest_logreport") if r.when == "call"]
    assert [{n for n, _ in r.user_properties} for r in calls] == [{"llmjudge_hallucinated"}] * 5
    pytester.runpytest("--junitxml", "junit.xml")
    cases = {c.get("name"): props(c) for c in suite_of(project.path / "junit.xml").iter("testcase")}
    g1 = cases["test_gen[long-t0-g1]"]
    assert [g1[f"llmjudge.answer.{k}.id"] for k in (1, 2)] == ["g1#1", "g1#2"]
    text = g1["llmjudge.answer.2.text"]
    assert len(text) == 2000 and text.endswith("…")


def test_a_generator_only_session_has_suite_properties(project, pytester: pytest.Pytester) -> None:
    generator_project(project)
    pytester.runpytest("--junitxml", "junit.xml")
    run = props(suite_of(project.path / "junit.xml"))
    assert float(run["llmjudge_generator.writer.t0.gen.hallucination_rate"]) == pytest.approx(0.4)
    assert run["llmjudge_generator.writer.t0.gen.passed"] == "true"  # no gate
    assert run["llmjudge.passed"] == "true"
