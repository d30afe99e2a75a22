"""--junitxml: case items carry target, prediction and reason; the suite carries run metrics."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

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
