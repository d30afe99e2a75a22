"""MistralBackend over both transports (the lean http client and the real mistralai SDK):
respx on an injected httpx client, and a loopback server. Every case runs on both transports
(the autouse `transport` fixture), so the two cannot drift."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from pytest_llmjudge import Case, Judge, Verdict
from pytest_llmjudge.backends.mistral import MistralBackend
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.settings import ScaleSettings, Settings, Transport
from pytest_llmjudge.testing import ChatServer

KEY = "sk-test-0123456789abcdef"
DEFAULT_URL = "https://api.mistral.ai"
CASE = Case(
    id="c1",
    premise="Alice met Bob in Paris in 2020.",
    hypothesis="Alice met Bob in Rome.",
    target=0,
)
JUDGE = Judge(name="small", model="mistral-small-latest", temperature=0.2, max_tokens=128)


TRANSPORT: list[Transport] = ["http"]


@pytest.fixture(autouse=True, params=["http", "sdk"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """Runs every test of this module on both transports."""
    TRANSPORT[0] = request.param
    return TRANSPORT[0]


def make_settings(**kwargs: Any) -> Settings:
    """Settings on the transport under test."""
    return Settings(scale=ScaleSettings(transport=TRANSPORT[0]), **kwargs)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, loopback_env: None) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)


def completion(content: str, total_tokens: int = 42) -> dict[str, Any]:
    """A chat completion body, as the Mistral API answers it."""
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": JUDGE.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": total_tokens},
    }


def judge_once(
    judge: Judge = JUDGE, settings: Settings | None = None, inject: bool = True
) -> Verdict:
    """One verdict from a fresh backend, on a fresh event loop (no pytest-asyncio needed)."""

    async def go() -> Verdict:
        client = httpx.AsyncClient() if inject else None
        backend = MistralBackend(judge, settings or make_settings(), async_client=client)
        try:
            return await backend.judge(CASE)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def answer(route: respx.Route, response: httpx.Response) -> None:
    route.mock(return_value=response)


def test_success_parses_prediction_reason_tokens_and_sends_the_request() -> None:
    content = json.dumps({"reason": "Rome is not in the document", "consistency": 0})
    with respx.mock(base_url=DEFAULT_URL, assert_all_called=True) as router:
        route = router.post("/v1/chat/completions")
        answer(route, httpx.Response(200, json=completion(content, total_tokens=42)))
        verdict = judge_once()

    assert (verdict.prediction, verdict.tokens, verdict.error) == (0, 42, None)
    assert verdict.reason == "Rome is not in the document"
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["model"] == "mistral-small-latest"
    assert body["messages"] == JUDGE.messages(CASE)
    assert "Alice met Bob in Rome." in body["messages"][0]["content"]
    assert body["response_format"] == {"type": "json_object"}
    assert (body["temperature"], body["max_tokens"]) == (0.2, 128)


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("I think it is consistent.", "not JSON"),
        ('{"reason": "looks fine"}', "no 'consistency' field"),
        ('{"reason": "x", "consistency": 2}', "not 0 or 1"),
    ],
    ids=["not-json", "missing-consistency", "out-of-range"],
)
def test_unusable_output_is_unscored_with_cause_and_raw(content: str, cause: str) -> None:
    with respx.mock(base_url=DEFAULT_URL) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=completion(content)))
        verdict = judge_once()

    assert verdict.prediction is None
    assert verdict.error is not None and cause in verdict.error
    assert verdict.raw == content
    assert verdict.tokens == 42


def test_401_is_unscored_and_never_shows_the_key() -> None:
    body = {"message": f"Unauthorized: invalid key {KEY}"}  # a server that echoes the key
    with respx.mock(base_url=DEFAULT_URL) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(401, json=body))
        verdict = judge_once()

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("HTTP 401")
    assert "Unauthorized" in verdict.error
    assert KEY not in verdict.model_dump_json()


def test_500_is_unscored_with_cause() -> None:
    with respx.mock(base_url=DEFAULT_URL) as router:
        route = router.post("/v1/chat/completions")
        answer(route, httpx.Response(500, json={"message": "upstream model crashed"}))
        verdict = judge_once()

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("HTTP 500")
    assert "upstream model crashed" in verdict.error
    assert route.call_count == 1  # the SDK does not retry by itself


def test_429_cause_names_retry_after() -> None:
    with respx.mock(base_url=DEFAULT_URL) as router:
        headers = {"Retry-After": "2"}
        response = httpx.Response(429, json={"message": "rate limited"}, headers=headers)
        answer(router.post("/v1/chat/completions"), response)
        verdict = judge_once()

    assert verdict.error is not None and verdict.error.startswith("HTTP 429 (retry after 2s)")


def test_200_that_is_not_a_chat_completion_is_unscored() -> None:
    with respx.mock(base_url=DEFAULT_URL) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json={"hello": "world"}))
        verdict = judge_once()

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("invalid response (HTTP 200)")
    assert verdict.raw is not None and "hello" in verdict.raw


def test_connection_error_is_unscored_not_raised() -> None:
    with respx.mock(base_url=DEFAULT_URL) as router:
        router.post("/v1/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
        verdict = judge_once()

    assert verdict.prediction is None
    assert verdict.error == "request failed: ConnectError: refused"


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_missing_key_makes_the_backend_unavailable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("MISTRAL_API_KEY")
    else:
        monkeypatch.setenv("MISTRAL_API_KEY", value)

    reason = MistralBackend(JUDGE, make_settings()).unavailable()

    assert reason is not None and "MISTRAL_API_KEY" in reason


def test_available_with_a_key() -> None:
    assert MistralBackend(JUDGE, make_settings()).unavailable() is None


def test_mistral_server_url_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://judge.internal:8000")
    ok = completion('{"reason": "ok", "consistency": 1}')
    with respx.mock(base_url="http://judge.internal:8000", assert_all_called=True) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=ok))
        # the env var beats ini
        settings = make_settings(mistral_server_url="http://from-ini:9000")
        verdict = judge_once(settings=settings)

    assert verdict.prediction == 1


def test_ini_server_url_is_used_without_the_env_var() -> None:
    ok = completion('{"reason": "ok", "consistency": 1}')
    with respx.mock(base_url="http://from-ini:9000", assert_all_called=True) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=ok))
        verdict = judge_once(settings=make_settings(mistral_server_url="http://from-ini:9000"))

    assert verdict.prediction == 1


def test_the_judges_own_server_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://from-env:8000")
    judge = JUDGE.model_copy(update={"server_url": "http://vllm.local:8001"})
    ok = completion('{"reason": "ok", "consistency": 1}')
    with respx.mock(base_url="http://vllm.local:8001", assert_all_called=True) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=ok))
        verdict = judge_once(judge=judge)

    assert verdict.prediction == 1


def test_default_transport_against_a_loopback_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServer(api_key=KEY) as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        verdict = judge_once(inject=False)  # the SDK's own httpx2 client, real HTTP

    assert (verdict.prediction, verdict.reason) == (0, "not in the document: Rome")
    assert verdict.tokens is not None and verdict.tokens > 0
    assert server.count == 1
    seen = server.requests[0]
    assert seen.auth_valid and "authorization" not in seen.headers
    assert seen.body["model"] == JUDGE.model
    assert seen.body["response_format"] == {"type": "json_object"}
    assert seen.body["messages"] == JUDGE.messages(CASE)


def test_wrong_key_against_a_loopback_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServer(api_key="sk-the-right-one") as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        verdict = judge_once(inject=False)

    assert verdict.error is not None and verdict.error.startswith("HTTP 401")
    assert KEY not in verdict.error
    assert server.requests[0].auth_present and not server.requests[0].auth_valid


def test_refused_connection_on_the_default_transport_is_unscored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ChatServer() as server:
        url = server.url  # closed on exit: nothing listens there any more
    monkeypatch.setenv("MISTRAL_SERVER_URL", url)

    verdict = judge_once(inject=False)

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("request failed: ConnectError")


def call_error(response: httpx.Response | Exception) -> CallError:
    """The CallError that MistralBackend.call raises for one mocked answer."""

    async def go() -> None:
        backend = MistralBackend(JUDGE, make_settings(), async_client=httpx.AsyncClient())
        try:
            await backend.call(CASE)
        finally:
            await backend.aclose()

    with respx.mock(base_url=DEFAULT_URL) as router:
        route = router.post("/v1/chat/completions")
        if isinstance(response, Exception):
            route.mock(side_effect=response)
        else:
            answer(route, response)
        with pytest.raises(CallError) as info:
            asyncio.run(go())
    return info.value


@pytest.mark.parametrize(
    ("response", "status", "retry_after", "permanent", "halts"),
    [
        (httpx.Response(429, json={}, headers={"Retry-After": "2"}), 429, 2.0, False, False),
        (httpx.Response(503, json={"message": "busy"}), 503, None, False, False),
        (httpx.Response(401, json={"message": f"bad key {KEY}"}), 401, None, True, True),
        (httpx.Response(404, json={"message": "no such model"}), 404, None, True, True),
        (httpx.Response(422, json={"message": "bad request"}), 422, None, True, False),
        (httpx.Response(200, json={"hello": "world"}), 200, None, True, False),
        (httpx.ConnectError("refused"), None, None, False, False),
        (httpx.ReadTimeout("slow"), None, None, False, False),
    ],
    ids=["429", "503", "401", "404", "422", "invalid-200", "connect", "timeout"],
)
def test_call_raises_typed_errors(
    response: httpx.Response | Exception,
    status: int | None,
    retry_after: float | None,
    permanent: bool,
    halts: bool,
) -> None:
    error = call_error(response)

    assert (error.status, error.retry_after, error.permanent, error.halts) == (
        status,
        retry_after,
        permanent,
        halts,
    )
    assert KEY not in str(error) and KEY not in (error.raw or "")


def test_call_names_a_timeout() -> None:
    assert call_error(httpx.ReadTimeout("slow")).message == "request timed out: ReadTimeout: slow"


def test_call_returns_the_raw_text_and_tokens_and_parse_reads_them() -> None:
    async def go() -> tuple[ModelResponse, Verdict]:
        backend = MistralBackend(JUDGE, make_settings(), async_client=httpx.AsyncClient())
        try:
            response = await backend.call(CASE)
        finally:
            await backend.aclose()
        return response, backend.parse(response)

    content = '{"reason": "r", "consistency": 1}'
    with respx.mock(base_url=DEFAULT_URL) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=completion(content)))
        response, verdict = asyncio.run(go())

    assert response == ModelResponse(content, 42)
    assert (verdict.prediction, verdict.tokens) == (1, 42)


def test_request_identity_has_what_determines_the_answer_and_no_key() -> None:
    identity = MistralBackend(JUDGE, make_settings()).request_identity(CASE)

    assert identity == {
        "backend": "mistral",
        "server": DEFAULT_URL,
        "model": JUDGE.model,
        "messages": JUDGE.messages(CASE),
        "response_format": {"type": "json_object"},
        "temperature": 0.2,
        "max_tokens": 128,
    }
    assert KEY not in json.dumps(identity)


def test_both_transports_send_the_same_request(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    for name in ("http", "sdk"):
        TRANSPORT[0] = name  # type: ignore[assignment]
        with ChatServer(api_key=KEY) as server:
            monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
            verdict = judge_once(inject=False)
        assert verdict.prediction == 0
        request = server.requests[0]
        assert request.auth_valid
        headers = {k: request.headers.get(k) for k in ("user-agent", "accept", "content-type")}
        seen[name] = (request.body, headers)

    assert seen["http"] == seen["sdk"]
    assert seen["http"][1]["user-agent"].startswith("mistral-client-python/")


def test_text_chunks_are_joined() -> None:
    body = completion("")
    body["choices"][0]["message"]["content"] = [
        {"type": "text", "text": '{"reason": "ok", '},
        {"type": "text", "text": '"consistency": 1}'},
    ]
    with respx.mock(base_url=DEFAULT_URL) as router:
        answer(router.post("/v1/chat/completions"), httpx.Response(200, json=body))
        verdict = judge_once()

    assert (verdict.prediction, verdict.reason) == (1, "ok")


def test_200_that_is_not_json_is_an_http_error() -> None:
    error = call_error(httpx.Response(200, text="<html>proxy login</html>"))

    assert (error.status, error.permanent) == (200, False)
    assert error.message.startswith("HTTP 200: <html>proxy login</html>")
