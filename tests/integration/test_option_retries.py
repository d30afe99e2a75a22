"""--llmjudge-retries, --llmjudge-rps and a permanent error reported once, via a loopback server."""

from __future__ import annotations

from typing import Any

import pytest


def fail_first(n: int, status: int = 503) -> Any:
    def fail(index: int, body: dict[str, Any]) -> int | None:
        return status if index < n else None

    return fail


def fail_case(case: int, status: int = 503) -> Any:
    """Fail every request about one case (a backing-off case frees its place for the next)."""

    def fail(index: int, body: dict[str, Any]) -> int | None:
        return status if f"Document number {case}." in str(body["messages"]) else None

    return fail


def test_5xx_are_retried_by_default(chat_project, pytester: pytest.Pytester) -> None:
    chat_project.server.fail = fail_first(2)
    result = pytester.runpytest("--llmjudge-concurrency", "1", "--llmjudge-report", "r.json")
    result.assert_outcomes(passed=3, xfailed=3)
    assert chat_project.server.count == 8
    result.stdout.fnmatch_lines(
        ["judge m on cases: 6 cases, 0 from the cache, 8 requests sent (2 retries)"]
    )
    assert all(c["error"] is None for c in chat_project.report("r.json")["runs"][0]["cases"])


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_retries_setting(chat_project, pytester: pytest.Pytester, how: str) -> None:
    chat_project.server.fail = fail_case(1)
    args = ["--llmjudge-concurrency", "1", "--llmjudge-report", "r.json"]
    if how == "cli":
        args += ["--llmjudge-retries", "2"]
    else:
        chat_project.ini("llmjudge_retries = 2\n")
    pytester.runpytest(*args)
    assert chat_project.server.count == 7  # c1 tried twice, then given up
    [c1] = [c for c in chat_project.report("r.json")["runs"][0]["cases"] if c["id"] == "c1"]
    assert c1["prediction"] is None
    assert c1["error"].startswith("HTTP 503") and c1["error"].endswith("(gave up after 2 tries)")


def test_401_is_reported_once_and_stops_requests(
    chat_project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-wrong-key-000000")
    result = pytester.runpytest("--llmjudge-concurrency", "1")

    assert chat_project.server.count == 1
    result.assert_outcomes(xfailed=6)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the run scored nothing
    out = result.stdout.str()
    assert out.count("HTTP 401") == 2  # the halt note and the run's failure, not once per case
    result.stdout.fnmatch_lines(
        [
            "FAILED run: judge m on cases: scored nothing: 5 of 6 unscored with the cause "
            "'not sent: the judge stopped after HTTP 401*",
            "judge m: HTTP 401*: a permanent error, so no further requests were sent; "
            "6 cases unscored",
        ]
    )
    assert "Traceback" not in out


def test_rps_and_tpm_options_are_accepted(chat_project, pytester: pytest.Pytester) -> None:
    chat_project.ini("llmjudge_tpm = 1000000\n")
    result = pytester.runpytest("--llmjudge-rps", "1000")
    result.assert_outcomes(passed=3, xfailed=3)
    assert chat_project.server.count == 6


def test_bad_rps_is_a_usage_error(chat_project, pytester: pytest.Pytester) -> None:
    chat_project.ini("llmjudge_rps = fast\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llmjudge_rps*fast*"])
