"""--llmjudge-batch: a run's requests go in one Mistral batch job (the loopback server's files
and batch jobs routes), answers land in the cache, and a later run without the option reads them
from there."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes.mistral_api import Script, form_field, reply

from pytest_llmjudge.testing import ChatServer, Request, completion


def batch_api(server: ChatServer, fail: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Serve the files and batch jobs endpoints; the output answers every uploaded line."""
    seen: dict[str, Any] = {"lines": []}

    def upload(request: Request) -> Any:
        content = form_field(request.body, "file")
        seen["lines"] = [json.loads(x) for x in content.splitlines() if x]
        return reply(200, json={"id": "file-in"})

    def content(request: Request) -> Any:
        out = []
        for line in seen["lines"]:
            if line["custom_id"] in fail:
                continue
            body = completion(line["body"]["model"], '{"reason": "ok", "consistency": 1}', [])
            out.append(
                {"custom_id": line["custom_id"], "response": {"status_code": 200, "body": body}}
            )
        return reply(200, text="".join(json.dumps(o) + "\n" for o in out))

    routes = {
        ("POST", "/v1/files"): Script(handler=upload),
        ("POST", "/v1/batch/jobs"): Script(
            always=reply(200, json={"id": "job-9", "status": "QUEUED"})
        ),
        ("GET", "/v1/batch/jobs/job-9"): Script(
            [
                reply(200, json={"id": "job-9", "status": "RUNNING", "total_requests": 6}),
                reply(200, json={"id": "job-9", "status": "SUCCESS", "output_file": "out"}),
            ]
        ),
        ("GET", "/v1/files/out/content"): Script(handler=content),
    }
    server.routes.update(routes)
    seen["routes"] = routes
    return seen


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_batch_job_then_cached_rerun(
    chat_project: Any, pytester: pytest.Pytester, how: str
) -> None:
    server = chat_project.server
    chat_project.ini(
        "llmjudge_batch_poll = 0.01\n" + ("llmjudge_batch = true\n" if how == "ini" else "")
    )
    args = ["--llmjudge-report", "r.json"] + (["--llmjudge-batch"] if how == "cli" else [])
    seen = batch_api(server, fail=frozenset({"c6"}))
    result = pytester.runpytest(*args)

    assert all(route.called for route in seen["routes"].values())
    assert server.count == 0  # nothing went through the chat endpoint
    assert len(seen["lines"]) == 6
    result.stdout.fnmatch_lines(
        [
            "llmjudge batch: job job-9: 6 requests, QUEUED",
            "llmjudge batch: job job-9: RUNNING, 0 succeeded, 0 failed of 6",
            "*judge m: batch job job-9 SUCCESS: 5 of 6 requests answered*",
        ]
    )
    cases = {c["id"]: c for c in chat_project.report("r.json")["runs"][0]["cases"]}
    assert [cases[f"c{i}"]["prediction"] for i in range(1, 6)] == [1] * 5
    assert cases["c6"]["error"] == "batch job job-9 ended SUCCESS: no result for this case"

    pytester.runpytest("--llmjudge-report", "again.json", "-o", "llmjudge_batch=false")

    assert server.count == 1  # only c6, which the job did not answer, is asked again
    again = {c["id"]: c for c in chat_project.report("again.json")["runs"][0]["cases"]}
    assert all(again[f"c{i}"]["cached"] for i in range(1, 6))


def test_batch_answers_cost_half_the_chat_price(
    chat_project: Any, pytester: pytest.Pytester
) -> None:
    # $1 per prompt token, $2 per answer token; the loopback batch answers have no prompt tokens
    chat_project.ini(
        "llmjudge_batch_poll = 0.01\nllmjudge_prices =\n    stub-model = 1000000, 2000000\n"
    )
    batch_api(chat_project.server)
    pytester.runpytest("--llmjudge-batch", "--llmjudge-report", "r.json")
    run = chat_project.report("r.json")["runs"][0]
    assert [c["cost"] for c in run["cases"]] == [
        pytest.approx(c["tokens"] * 2 * 0.5) for c in run["cases"]
    ]
    assert run["cost"]["spent"] == pytest.approx(sum(c["tokens"] for c in run["cases"]))
