"""--llmjudge-transport: the lean h11 client (default), httpx2 and the SDK give the same run."""

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
    for transport in ("sdk", "http", "h11"):
        args = ["--llmjudge-cache", "off", "--llmjudge-report", f"{transport}.json"]
        if how == "cli":
            args += ["--llmjudge-transport", transport]
        else:
            chat_project.ini(f"llmjudge_transport = {transport}\n")
        result = pytester.runpytest(*args)
        result.assert_outcomes(passed=3, xfailed=3)
        runs[transport] = verdicts(chat_project, f"{transport}.json")

    assert runs["sdk"] == runs["http"] == runs["h11"]
    assert chat_project.server.count == 18
    agents = {r.headers["user-agent"] for r in chat_project.server.requests}
    assert len(agents) == 1 and agents.pop().startswith("mistral-client-python/")


def test_an_unknown_transport_is_a_usage_error(
    chat_project: Any, pytester: pytest.Pytester
) -> None:
    chat_project.ini("llmjudge_transport = carrier-pigeon\n")
    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid llmjudge_transport = 'carrier-pigeon'*h11, http, sdk*"])
