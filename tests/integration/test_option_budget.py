"""The estimate printed before a run, --llmjudge-max-requests and --llmjudge-max-tokens."""

from __future__ import annotations

import re

import pytest


def test_estimate_is_printed_before_the_run(chat_project, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    line = next(x for x in result.outlines if x.startswith("llmjudge estimate:"))
    match = re.fullmatch(
        r"llmjudge estimate: judge m on cases: 6 cases, 0 cached, 6 requests, ~([\d,]+) tokens",
        line,
    )
    assert match, line
    tokens = int(match.group(1).replace(",", ""))
    assert 6 * 256 < tokens < 6 * (256 + 1000)  # prompt chars / 4 + max_tokens per case
    assert result.outlines.index(line) < next(
        i for i, x in enumerate(result.outlines) if x.startswith("test_eval.py")
    )


def test_function_judges_print_no_estimate(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]))
    project.scripted()
    result = pytester.runpytest()
    assert not [x for x in result.outlines if x.startswith("llmjudge estimate")]


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_request_budget(chat_project, pytester: pytest.Pytester, how: str) -> None:
    args = ["--llmjudge-concurrency", "1", "--llmjudge-report", "r.json"]
    if how == "cli":
        args += ["--llmjudge-max-requests", "4"]
    else:
        chat_project.ini("llmjudge_max_requests = 4\n")

    result = pytester.runpytest(*args)

    assert chat_project.server.count == 4
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "llmjudge estimate: the estimate (6 requests) exceeds the budget of 4 requests*",
            "FAILED budget: judge m on cases: request budget of 4 reached; 2 cases unscored",
        ]
    )
    report = chat_project.report("r.json")
    assert report["passed"] is False and report["calls"]["budget_exhausted"] is True
    errors = [c["error"] for c in report["runs"][0]["cases"]]
    assert errors.count("request budget of 4 reached") == 2


def test_token_budget(chat_project, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-concurrency", "1", "--llmjudge-max-tokens", "1")
    assert chat_project.server.count == 1  # the first request may go; then the budget is spent
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED budget: judge m on cases: token budget of 1 reached; 5 cases unscored"]
    )


def test_cached_cases_cost_nothing(chat_project, pytester: pytest.Pytester) -> None:
    pytester.runpytest()
    result = pytester.runpytest("--llmjudge-max-requests", "1")
    assert result.ret == pytest.ExitCode.OK
    assert chat_project.server.count == 6
    result.stdout.no_fnmatch_line("*budget*")


def test_bad_budget_is_a_usage_error(chat_project, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-max-requests", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
