"""The estimate printed before a run, --llmjudge-max-requests and --llmjudge-max-tokens."""

from __future__ import annotations

import re
import tempfile

import pytest
from conftest import FIXTURE_MISTRAL_MODULE


def test_estimate_is_printed_before_the_run(chat_project, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    line = next(x for x in result.outlines if x.startswith("llmjudge estimate:"))
    match = re.fullmatch(
        r"llmjudge estimate: judge m on cases: 6 cases, 0 cached, 6 requests, ~([\d,]+) tokens, "
        r"no price for stub-model",
        line,
    )
    assert match, line
    tokens = int(match.group(1).replace(",", ""))
    assert 6 * 256 < tokens < 6 * (256 + 1000)  # prompt chars / 4 + max_tokens per case
    assert result.outlines.index(line) < next(
        i for i, x in enumerate(result.outlines) if x.startswith("test_eval.py")
    )


def test_a_judge_named_as_a_fixture_gets_its_estimate_before_its_batch(
    chat_project, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_eval=FIXTURE_MISTRAL_MODULE)
    result = pytester.runpytest()
    lines = [x for x in result.outlines if "llmjudge estimate:" in x]
    assert len(lines) == 1, result.stdout.str()
    assert re.search(
        r"llmjudge estimate: judge m on cases: 6 cases, 0 cached, 6 requests, ~[\d,]+ tokens",
        lines[0],
    ), lines
    result.assert_outcomes(passed=3, xfailed=3)


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


@pytest.mark.parametrize("workers", ["0", "2"], ids=["serial", "xdist"])
def test_the_request_budget_holds_across_xdist_workers(
    chat_project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    # 60 cases, a budget of 25: under -n 2 both workers spend one ledger's budget
    monkeypatch.setattr(tempfile, "tempdir", str(pytester.path / "tmp"))  # the ledger's folder
    (pytester.path / "tmp").mkdir()
    chat_project.cases(chat_project.make_rows([1, 0] * 30))
    chat_project.server.latency = 0.005
    args = [
        "-p",
        "xdist",
        "-n",
        workers,
        "--llmjudge-max-requests",
        "25",
        "--llmjudge-cache",
        "off",
    ]

    result = pytester.runpytest(*args, "--llmjudge-report", "r.json")

    assert chat_project.server.count == 25
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    budget = [x for x in result.outlines if x.startswith("FAILED budget")]
    assert budget == [
        "FAILED budget: judge m on cases: request budget of 25 reached; 35 cases unscored"
    ]
    report = chat_project.report("r.json")
    assert report["passed"] is False and report["calls"]["budget_exhausted"] is True
    errors = [c["error"] for c in report["runs"][0]["cases"]]
    assert len(errors) == 60 and errors.count("request budget of 25 reached") == 35
    assert list((pytester.path / "tmp").iterdir()) == []  # the ledger is gone with its run


def test_the_token_budget_holds_across_xdist_workers(
    chat_project, pytester: pytest.Pytester
) -> None:
    chat_project.cases(chat_project.make_rows([1, 0] * 20))
    estimate = re.search(r"~([\d,]+) tokens", pytester.runpytest("--co").stdout.str())
    assert estimate is not None
    each = int(estimate.group(1).replace(",", "")) // 40  # a request's estimate (all alike)
    limit = 5 * each
    args = ["-p", "xdist", "-n", "2", "--llmjudge-cache", "off", "--llmjudge-report", "r.json"]

    result = pytester.runpytest(*args, "--llmjudge-max-tokens", str(limit))

    # a request goes while the tokens used and reserved (its estimate, until it answers) are
    # under the limit: the workers together use less than the limit and one more estimate
    sent = chat_project.server.count
    used = sum(c["tokens"] or 0 for c in chat_project.report("r.json")["runs"][0]["cases"])
    assert 5 <= sent < 40 and used < limit + each
    assert [x for x in result.outlines if x.startswith("FAILED budget")] == [
        f"FAILED budget: judge m on cases: token budget of {limit} reached; "
        f"{40 - sent} cases unscored"
    ]
