"""--llmjudge-batch: a run's requests go in one Mistral batch job (respx), answers land in the
cache, and a later run without the option reads them from there."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from pytest_llmjudge.testing import completion


def batch_api(router: respx.MockRouter, fail: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """Mock the files and batch jobs endpoints; the output answers every uploaded line."""
    seen: dict[str, Any] = {"lines": []}

    def upload(request: httpx.Request) -> httpx.Response:
        start = request.content.index(b'{"custom_id"')
        end = request.content.rindex(b"}") + 1
        seen["lines"] = [json.loads(x) for x in request.content[start:end].splitlines() if x]
        return httpx.Response(200, json={"id": "file-in"})

    def content(request: httpx.Request) -> httpx.Response:
        out = []
        for line in seen["lines"]:
            if line["custom_id"] in fail:
                continue
            body = completion(line["body"]["model"], '{"reason": "ok", "consistency": 1}', [])
            out.append(
                {"custom_id": line["custom_id"], "response": {"status_code": 200, "body": body}}
            )
        return httpx.Response(200, text="".join(json.dumps(o) + "\n" for o in out))

    router.post("/v1/files").mock(side_effect=upload)
    router.post("/v1/batch/jobs").mock(
        return_value=httpx.Response(200, json={"id": "job-9", "status": "QUEUED"})
    )
    router.get("/v1/batch/jobs/job-9").mock(
        side_effect=[
            httpx.Response(200, json={"id": "job-9", "status": "RUNNING", "total_requests": 6}),
            httpx.Response(200, json={"id": "job-9", "status": "SUCCESS", "output_file": "out"}),
        ]
    )
    router.get("/v1/files/out/content").mock(side_effect=content)
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
    with respx.mock(base_url=server.url, assert_all_called=True) as router:
        seen = batch_api(router, fail={"c6"})
        result = pytester.runpytest(*args)

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
