"""--llmjudge-cache use|refresh|off|replay and --llmjudge-cache-dir, against a loopback server."""

from __future__ import annotations

import pytest

from pytest_llmjudge.calls.cache import FILE_NAME

DEFAULT_DB = ".llmjudge/cache/" + FILE_NAME


def test_second_run_answers_from_the_cache(chat_project, pytester: pytest.Pytester) -> None:
    server = chat_project.server
    first = pytester.runpytest("--llmjudge-report", "r.json")
    first.assert_outcomes(passed=3, xfailed=3)
    assert server.count == 6
    first.stdout.fnmatch_lines(["judge m on cases: 6 cases, 0 from the cache, 6 requests sent"])
    assert chat_project.report("r.json")["calls"]["cached"] == 0
    assert (pytester.path / DEFAULT_DB).exists()

    second = pytester.runpytest("--llmjudge-report", "r.json")
    second.assert_outcomes(passed=3, xfailed=3)
    assert server.count == 6  # no request at all
    second.stdout.fnmatch_lines(
        [
            "llmjudge estimate: judge m on cases: 6 cases, 6 cached, 0 requests, ~0 tokens",
            "judge m on cases: 6 cases, 6 from the cache, 0 requests sent",
        ]
    )
    report = chat_project.report("r.json")
    assert report["calls"]["cached"] == 6
    assert report["runs"][0]["cached"] == 6
    assert all(case["cached"] for case in report["runs"][0]["cases"])


def test_only_the_new_cases_are_requested(chat_project, pytester: pytest.Pytester) -> None:
    pytester.runpytest("-k", "c1 or c2").assert_outcomes(passed=1, xfailed=1)
    assert chat_project.server.count == 2
    pytester.runpytest().stdout.fnmatch_lines(
        ["judge m on cases: 6 cases, 2 from the cache, 4 requests sent"]
    )
    assert chat_project.server.count == 6


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_off_always_calls(chat_project, pytester: pytest.Pytester, how: str) -> None:
    args = ["--llmjudge-cache", "off"] if how == "cli" else []
    if how == "ini":
        chat_project.ini("llmjudge_cache = off\n")
    pytester.runpytest(*args)
    pytester.runpytest(*args)
    assert chat_project.server.count == 12
    assert not (pytester.path / DEFAULT_DB).exists()


def test_refresh_calls_again(chat_project, pytester: pytest.Pytester) -> None:
    pytester.runpytest()
    result = pytester.runpytest("--llmjudge-cache", "refresh")
    result.stdout.fnmatch_lines(["judge m on cases: 6 cases, 0 from the cache, 6 requests sent"])
    assert chat_project.server.count == 12
    pytester.runpytest()
    assert chat_project.server.count == 12


def test_replay_needs_no_key_and_no_network(
    chat_project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.runpytest("-k", "c1 or c2 or c3 or c4")
    assert chat_project.server.count == 4
    monkeypatch.delenv("MISTRAL_API_KEY")

    result = pytester.runpytest("--llmjudge-cache", "replay", "-rx", "--llmjudge-report", "r.json")

    assert chat_project.server.count == 4
    result.assert_outcomes(passed=2, xfailed=4)  # c5 and c6 are unscored
    result.stdout.fnmatch_lines(
        [
            "judge m on cases: 6 cases, 4 from the cache, 0 requests sent",
            "judge m on cases: 2 cases not in the cache (replay)",
            "*c5* unscored: not in cache (--llmjudge-cache replay)",
        ]
    )
    cases = {c["id"]: c for c in chat_project.report("r.json")["runs"][0]["cases"]}
    assert cases["c6"]["error"] == "not in cache (--llmjudge-cache replay)"
    assert cases["c1"]["cached"] and not cases["c6"]["cached"]


def test_without_a_key_other_modes_still_skip(
    chat_project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    pytester.runpytest().assert_outcomes(skipped=6)
    assert chat_project.server.count == 0


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_cache_dir(chat_project, pytester: pytest.Pytester, how: str) -> None:
    if how == "ini":
        chat_project.ini("llmjudge_cache_dir = store/answers\n")
        pytester.runpytest()
    else:
        pytester.runpytest("--llmjudge-cache-dir", "store/answers")
    assert (pytester.path / "store" / "answers" / FILE_NAME).exists()
    assert not (pytester.path / DEFAULT_DB).exists()


def test_bad_cache_mode_is_a_usage_error(chat_project, pytester: pytest.Pytester) -> None:
    chat_project.ini("llmjudge_cache = sometimes\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llmjudge_cache*sometimes*use, refresh, off, replay*"])
