"""--llmjudge-transport: our aiohttp client (http, the default) and the SDK give the same run;
h11, removed, is a usage error that names the new default."""

from __future__ import annotations

from typing import Any

import pytest


def verdicts(project: Any, name: str) -> dict[str, Any]:
    cases = project.report(name)["runs"][0]["cases"]
    return {c["id"]: (c["prediction"], c["reason"], c["error"]) for c in cases}


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_all_transports_give_the_same_verdicts(
    chat_project: Any, pytester: pytest.Pytester, how: str
) -> None:
    runs = {}
    for transport in ("sdk", "http", None):  # None: the default
        args = ["--llmjudge-cache", "off", "--llmjudge-report", f"{transport}.json"]
        if transport is None:
            chat_project.ini("")
        elif how == "cli":
            args += ["--llmjudge-transport", transport]
        else:
            chat_project.ini(f"llmjudge_transport = {transport}\n")
        result = pytester.runpytest(*args)
        result.assert_outcomes(passed=3, xfailed=3)
        runs[transport] = verdicts(chat_project, f"{transport}.json")

    assert runs["sdk"] == runs["http"] == runs[None]
    assert chat_project.server.count == 18
    agents = {r.headers["user-agent"] for r in chat_project.server.requests}
    assert len(agents) == 1 and agents.pop().startswith("mistral-client-python/")


def test_an_unknown_transport_is_a_usage_error(
    chat_project: Any, pytester: pytest.Pytester
) -> None:
    chat_project.ini("llmjudge_transport = carrier-pigeon\n")
    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid llmjudge_transport = 'carrier-pigeon'*one of http, sdk"])


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_h11_was_removed_and_says_http_is_the_default(
    chat_project: Any, pytester: pytest.Pytester, how: str
) -> None:
    if how == "ini":
        chat_project.ini("llmjudge_transport = h11\n")
    result = pytester.runpytest(*(["--llmjudge-transport", "h11"] if how == "cli" else []))

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*llmjudge_transport = 'h11' was removed: 'http' *is the default now*"]
    )
    assert chat_project.server.count == 0
