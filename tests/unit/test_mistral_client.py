"""MistralClient endpoints that no backend path exercises yet: cancel a batch job, a model card,
and the errors of a JSON endpoint (status with Retry-After, a body that is not a JSON object)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from fakes.mistral_api import Script, reply

from pytest_llmjudge.backends.mistral.client import MistralClient
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.testing import ChatServer

KEY = "sk-client-0123456789abcdef"


def on(server: ChatServer, call: Callable[[MistralClient], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        client = MistralClient(KEY, server.url, timeout_s=5)
        try:
            return await call(client)
        except CallError as exc:
            return exc
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.fixture
def server(loopback_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    with ChatServer() as started:
        yield started


def test_cancel_a_batch_job_and_read_a_model_card(server: ChatServer) -> None:
    cancel = Script(always=reply(200, json={"id": "job-1", "status": "CANCELLATION_REQUESTED"}))
    card = Script(always=reply(200, json={"id": "ft:m:1", "object": "model"}))
    server.routes[("POST", "/v1/batch/jobs/job-1/cancel")] = cancel
    server.routes[("GET", "/v1/models/ft:m:1")] = card

    job = on(server, lambda c: c.cancel_batch_job("job-1"))
    model = on(server, lambda c: c.model_card("ft:m:1"))

    assert job["status"] == "CANCELLATION_REQUESTED" and model["id"] == "ft:m:1"
    assert cancel.calls[0].headers["authorization"] == f"Bearer {KEY}"
    assert card.calls[0].headers["user-agent"].startswith("mistral-client-python/")


def test_a_json_endpoint_raises_statuses_with_retry_after_and_no_key(server: ChatServer) -> None:
    server.routes[("GET", "/v1/batch/jobs/job-1")] = Script(
        always=reply(429, json={"message": f"slow down {KEY}"}, headers={"Retry-After": "3"})
    )

    error = on(server, lambda c: c.batch_job("job-1"))

    assert isinstance(error, CallError)
    assert (error.status, error.retry_after, error.permanent) == (429, 3.0, False)
    assert error.message == 'HTTP 429 (retry after 3s): {"message":"slow down ***"}'


def test_a_json_endpoint_that_answers_no_object_is_a_permanent_error(server: ChatServer) -> None:
    server.routes[("GET", "/v1/models/m")] = Script(always=reply(200, json=["not", "an object"]))

    error = on(server, lambda c: c.model_card("m"))

    assert isinstance(error, CallError) and error.permanent and error.status == 200
    assert error.message == "invalid response (HTTP 200): expected a JSON object"
    assert error.raw == '["not","an object"]'
