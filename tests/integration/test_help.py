"""The installed entry point registers options, ini keys, the marker and the report header."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_help_lists_the_llmjudge_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "LLM judge evaluations:",
            "*--llmjudge-concurrency=N*",
            "*--llmjudge-strict*",
            "*--llmjudge-threshold=*METRIC>=VALUE*",
            "*--llmjudge-report=PATH*",
            "*--llmjudge-unscored=*wrong*exclude*",
            "*--llmjudge-positive=*",
            "*--llmjudge-timeout=SECONDS*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*llmjudge_concurrency (string):*",
            "*llmjudge_strict (bool):*",
            "*llmjudge_thresholds (linelist):*",
            "*llmjudge_report (string):*",
            "*llmjudge_unscored (string):*",
        ]
    )


def test_plugin_is_loaded_from_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--co")
    result.stdout.fnmatch_lines(["llmjudge: concurrency 8, *", "plugins:*llmjudge-*"])
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.llmjudge(dataset=PATH|Dataset, *judges=*thresholds=*"]
    )


def test_marker_works_under_strict_markers(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1]))
    project.scripted()
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1)


def test_report_header_shows_settings(project, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--co",
        "--llmjudge-concurrency",
        "5",
        "--llmjudge-unscored",
        "exclude",
        "--llmjudge-positive",
        "0",
        "--llmjudge-strict",
    )
    result.stdout.fnmatch_lines(
        ["llmjudge: concurrency 5, unscored cases count as exclude, positive class 0, strict"]
    )


@pytest.mark.parametrize(
    ("args", "ini", "fragment"),
    [
        (["--llmjudge-positive", "2"], "", "*argument --llmjudge-positive: invalid choice: 2*"),
        (["--llmjudge-timeout", "0"], "", "*invalid llmjudge_timeout = 0.0: must be positive*"),
        ([], "llmjudge_positive = yes\n", "*invalid llmjudge_positive = 'yes'*"),
        ([], "llmjudge_timeout = -1\n", "*invalid llmjudge_timeout = '-1': must be positive*"),
    ],
)
def test_bad_values_are_usage_errors(
    project, pytester: pytest.Pytester, args: list[str], ini: str, fragment: str
) -> None:
    project.ini(ini)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([fragment])


LOADED_MODULES_CONFTEST = """
import json, sys

def pytest_unconfigure(config):
    names = sorted(m for m in sys.modules if m.startswith("pytest_llmjudge"))
    with open("loaded.json", "w") as f:
        json.dump(names, f)
"""


def write_function_judge_eval(pytester: pytest.Pytester) -> None:
    """One case and one llmjudge test of an instant function judge."""
    pytester.makefile(
        ".jsonl", cases='{"premise": "A met B.", "hypothesis": "A met B.", "target": 1}'
    )
    pytester.makepyfile(
        test_eval="""
        import pytest
        from pytest_llmjudge import Judge

        JUDGE = Judge(name="f", backend="function", function=lambda case: case.target)

        @pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )


def test_a_run_without_llmjudge_items_loads_no_evaluation_code(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LOADED_MODULES_CONFTEST)
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("--llmjudge-report", "report.json")
    result.assert_outcomes(passed=1)
    loaded = set(json.loads((pytester.path / "loaded.json").read_text()))
    for module in ("session", "dataset", "judge", "verdict", "report", "runner", "calls"):
        assert f"pytest_llmjudge.{module}" not in loaded, sorted(loaded)
    assert not (pytester.path / "report.json").exists()  # no evaluation, no report
    assert "llmjudge summary" not in result.stdout.str()


def test_a_run_with_llmjudge_items_loads_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LOADED_MODULES_CONFTEST)
    write_function_judge_eval(pytester)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert "pytest_llmjudge.evaluation.session" in json.loads(
        (pytester.path / "loaded.json").read_text()
    )
    result.stdout.fnmatch_lines(["*llmjudge summary*", "f *cases *1 *"])


def test_in_process_runs_each_import_the_evaluation_modules_anew(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if no test module had imported them: each in-process run then imports them itself,
    # and pytester drops them again after it; `from pytest_llmjudge import Judge` must follow.
    loads = "import sys, pytest_llmjudge.plugin; print(' '.join(sys.modules))"
    light = subprocess.run(
        [sys.executable, "-c", loads], capture_output=True, text=True, check=True
    )
    for name in [m for m in sys.modules if m.startswith("pytest_llmjudge.")]:
        if name not in light.stdout.split():
            monkeypatch.delitem(sys.modules, name)
    write_function_judge_eval(pytester)
    for _ in range(2):
        pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
