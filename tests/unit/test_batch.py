"""The Mistral Batch API mode: the whole job lifecycle against a loopback files + batch jobs API
(ChatServer routes scripted with fakes.mistral_api; nothing leaves 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.mistral_api import Script, form_field, reply

from pytest_llmjudge import Case, Judge, Verdict
from pytest_llmjudge.backends.mistral import MistralBackend
from pytest_llmjudge.backends.mistral.batch import judge_with_batch_job
from pytest_llmjudge.calls.cache import CachedResponse, request_key
from pytest_llmjudge.calls.reliable import CallContext
from pytest_llmjudge.settings import CallSettings, ScaleSettings, Settings
from pytest_llmjudge.testing import ChatServer, Request

KEY = "sk-batch-0123456789abcdef"
JUDGE = Judge(name="small", model="mistral-small-latest")
CASES = [
    Case(id=f"c{i}", premise=f"Document {i}.", hypothesis=f"Summary {i}.", target=i % 2)
    for i in range(1, 6)
]


SERVER: list[ChatServer] = []


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, loopback_env: None) -> Iterator[None]:
    """MISTRAL_SERVER_URL at one loopback server for the test (the cache keys name it)."""
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    with ChatServer() as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        SERVER[:] = [server]
        yield


def settings(tmp_path: Path, **calls: Any) -> Settings:
    return Settings(
        calls=CallSettings(cache_dir=tmp_path / "cache", **calls),
        scale=ScaleSettings(batch=True, batch_poll_s=5.0),
    )


def output_line(case_id: str, consistency: int, tokens: int = 20) -> dict[str, Any]:
    content = json.dumps({"reason": f"reason {case_id}", "consistency": consistency})
    body = {
        "id": f"cmpl-{case_id}",
        "object": "chat.completion",
        "created": 1,
        "model": JUDGE.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": tokens},
    }
    return {
        "id": f"line-{case_id}",
        "custom_id": case_id,
        "response": {"status_code": 200, "body": body},
    }


def jsonl(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


class Lifecycle:
    """A loopback Mistral files + batch jobs API; records what was uploaded and created."""

    def __init__(
        self,
        statuses: list[dict[str, Any]],
        files: dict[str, str],
        upload_status: int = 200,
    ) -> None:
        self.uploaded: list[dict[str, Any]] = []
        self.upload_form = b""
        self.created: dict[str, Any] = {}

        def upload(request: Request) -> Any:
            self.upload_form = request.body
            content = form_field(request.body, "file")
            self.uploaded = [json.loads(x) for x in content.splitlines() if x]
            if upload_status != 200:
                return reply(upload_status, json={"message": "upload refused"})
            return reply(200, json={"id": "file-in", "purpose": "batch"})

        def create(request: Request) -> Any:
            self.created = request.json()
            self.auth = request.headers.get("authorization")
            return reply(200, json={"id": "job-1", "status": "QUEUED"})

        self.upload_route = Script(handler=upload)
        self.create_route = Script(handler=create)
        self.poll_route = Script([reply(200, json={"id": "job-1", **s}) for s in statuses])
        routes = SERVER[0].routes
        routes[("POST", "/v1/files")] = self.upload_route
        routes[("POST", "/v1/batch/jobs")] = self.create_route
        routes[("GET", "/v1/batch/jobs/job-1")] = self.poll_route
        self.content_routes = {}
        for file_id, text in files.items():
            route = Script(always=reply(200, text=text))
            routes[("GET", f"/v1/files/{file_id}/content")] = self.content_routes[file_id] = route

    def assert_all_called(self) -> None:
        """Every route was asked (respx's assert_all_called)."""
        routes = [self.upload_route, self.create_route, self.poll_route]
        assert all(r.called for r in [*routes, *self.content_routes.values()])
        assert self.poll_route.answers == []  # every scripted poll was read


def run_batch(
    tmp_path: Path, cases: list[Case] = CASES, **calls: Any
) -> tuple[dict[str, Verdict], str | None, list[str], CallContext]:
    s = settings(tmp_path, **calls)
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    context = CallContext(s, sleep=no_sleep)
    lines: list[str] = []

    async def go() -> tuple[dict[str, Verdict], str | None]:
        backend = MistralBackend(JUDGE, s)
        try:
            return await judge_with_batch_job(backend, cases, context, s, lines.append)
        finally:
            await backend.aclose()

    verdicts, note = asyncio.run(go())
    assert all(seconds == 5.0 for seconds in slept)
    return verdicts, note, lines, context


def test_success_uploads_creates_polls_reads_and_caches(tmp_path: Path) -> None:
    statuses = [
        {"status": "RUNNING", "total_requests": 5, "succeeded_requests": 2, "failed_requests": 0},
        {"status": "SUCCESS", "total_requests": 5, "succeeded_requests": 5, "output_file": "out"},
    ]
    output = jsonl([output_line(c.id, c.target) for c in reversed(CASES)])  # any order
    api = Lifecycle(statuses, {"out": output})
    verdicts, note, lines, context = run_batch(tmp_path)
    api.assert_all_called()

    assert {cid: v.prediction for cid, v in verdicts.items()} == {c.id: c.target for c in CASES}
    assert verdicts["c1"].reason == "reason c1" and verdicts["c1"].tokens == 20
    backend = MistralBackend(JUDGE, settings(tmp_path))
    assert [line["custom_id"] for line in api.uploaded] == [c.id for c in CASES]
    assert api.uploaded[0]["body"] == backend.chat_body(CASES[0])
    assert b'name="purpose"' in api.upload_form and b"batch" in api.upload_form
    assert api.created["endpoint"] == "/v1/chat/completions"
    assert api.created["model"] == JUDGE.model and api.created["input_files"] == ["file-in"]
    assert api.auth == f"Bearer {KEY}"
    assert note == "judge small: batch job job-1 SUCCESS: 5 of 5 requests answered"
    assert any("RUNNING, 2 succeeded, 0 failed of 5" in line for line in lines)
    assert context.cache is not None and len(context.cache) == 5  # results land in the cache
    hit = context.cache.get(request_key(backend.request_identity(CASES[0])))
    assert hit is not None and hit.tokens == 20 and '"consistency": 1' in (hit.text or "")


def test_partial_failures_become_unscored_with_their_cause(tmp_path: Path) -> None:
    bad_line = {"custom_id": "c2", "response": {"status_code": 200, "body": {"hello": "world"}}}
    http_500 = {
        "custom_id": "c3",
        "response": {"status_code": 500, "body": {"message": "model crashed"}},
        "error": {"message": "model crashed", "code": 3000},
    }
    unparseable = output_line("c4", 1)
    unparseable["response"]["body"]["choices"][0]["message"]["content"] = "I think so."
    statuses = [
        {"status": "SUCCESS", "output_file": "out", "error_file": "err", "failed_requests": 2}
    ]
    files = {"out": jsonl([output_line("c1", 1), bad_line, unparseable]), "err": jsonl([http_500])}
    api = Lifecycle(statuses, files)
    verdicts, note, _, context = run_batch(tmp_path)
    api.assert_all_called()

    assert verdicts["c1"].prediction == 1 and verdicts["c1"].error is None
    assert verdicts["c2"].prediction is None
    assert (verdicts["c2"].error or "").startswith("invalid response (HTTP 200)")
    assert verdicts["c3"].error == "batch line failed (HTTP 500): model crashed"
    assert verdicts["c4"].prediction is None and "not JSON" in (verdicts["c4"].error or "")
    assert verdicts["c5"].error == "batch job job-1 ended SUCCESS: no result for this case"
    assert note == "judge small: batch job job-1 SUCCESS: 1 of 5 requests answered"
    assert context.cache is not None and len(context.cache) == 2  # c1 and c4 answered


@pytest.mark.parametrize("status", ["TIMEOUT_EXCEEDED", "CANCELLED", "FAILED"])
def test_a_job_that_ends_early_keeps_its_answers(tmp_path: Path, status: str) -> None:
    statuses = [
        {"status": "RUNNING", "total_requests": 5, "succeeded_requests": 2},
        {
            "status": status,
            "output_file": "out",
            "errors": [{"message": "the job went wrong"}] if status == "FAILED" else [],
        },
    ]
    files = {"out": jsonl([output_line("c1", 1), output_line("c2", 0)])}
    api = Lifecycle(statuses, files)
    verdicts, note, lines, _ = run_batch(tmp_path)
    api.assert_all_called()

    assert (verdicts["c1"].prediction, verdicts["c2"].prediction) == (1, 0)
    detail = " (the job went wrong)" if status == "FAILED" else ""
    for cid in ("c3", "c4", "c5"):
        assert verdicts[cid].prediction is None
        assert (
            verdicts[cid].error
            == f"batch job job-1 ended {status}{detail}: no result for this case"
        )
    assert note == f"judge small: batch job job-1 {status}: 2 of 5 requests answered"
    assert lines[-1].startswith(f"job job-1: {status} after")


def test_a_failed_upload_leaves_every_case_unscored(tmp_path: Path) -> None:
    api = Lifecycle([], {}, upload_status=500)
    verdicts, note, _, _ = run_batch(tmp_path)

    assert len(verdicts) == 5
    assert all(v.prediction is None for v in verdicts.values())
    error = verdicts["c1"].error or ""
    assert error.startswith("batch job not created: HTTP 500: ") and "upload refused" in error
    assert note is not None and "CREATE_FAILED" in note
    assert api.upload_route.call_count == 1 and not api.create_route.called


def test_cached_cases_are_not_sent(tmp_path: Path) -> None:
    s = settings(tmp_path)
    context = CallContext(s)
    backend = MistralBackend(JUDGE, s)
    assert context.cache is not None
    for case in CASES[:3]:
        key = request_key(backend.request_identity(case))
        context.cache.put(key, "mistral", JUDGE.model, CachedResponse('{"consistency": 1}', 5))
    context.close()
    statuses = [{"status": "SUCCESS", "output_file": "out"}]
    files = {"out": jsonl([output_line("c4", 1), output_line("c5", 1)])}
    api = Lifecycle(statuses, files)
    verdicts, note, _, _ = run_batch(tmp_path)
    api.assert_all_called()

    assert [line["custom_id"] for line in api.uploaded] == ["c4", "c5"]
    assert sorted(verdicts) == ["c4", "c5"]
    assert note == "judge small: batch job job-1 SUCCESS: 2 of 2 requests answered"


def test_replay_sends_nothing(tmp_path: Path) -> None:
    api = Lifecycle([], {})
    verdicts, note, _, _ = run_batch(tmp_path, cache="replay")

    assert (verdicts, note) == ({}, None)
    assert not api.upload_route.called


def test_the_request_budget_limits_the_lines_sent(tmp_path: Path) -> None:
    statuses = [{"status": "SUCCESS", "output_file": "out"}]
    files = {"out": jsonl([output_line("c1", 1), output_line("c2", 0)])}
    api = Lifecycle(statuses, files)
    verdicts, _, _, _ = run_batch(tmp_path, max_requests=2)

    assert [line["custom_id"] for line in api.uploaded] == ["c1", "c2"]
    assert verdicts["c3"].error == "request budget of 2 reached"
