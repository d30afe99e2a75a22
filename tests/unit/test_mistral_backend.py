"""MistralBackend over both transports (our aiohttp client and the real mistralai SDK), against
a loopback ChatServer whose chat route answers what each test scripts (fakes.mistral_api).
Every case runs on both transports (the autouse `transport` fixture), so the two cannot drift."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.mistral_api import HANGUP, Delay, Script, chat_script, completion, reply

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


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    """A loopback server that MISTRAL_SERVER_URL points at (any key is accepted)."""
    with ChatServer() as started:
        monkeypatch.setenv("MISTRAL_SERVER_URL", started.url)
        yield started


def judge_once(judge: Judge = JUDGE, settings: Settings | None = None) -> Verdict:
    """One verdict from a fresh backend, on a fresh event loop (no pytest-asyncio needed)."""

    async def go() -> Verdict:
        backend = MistralBackend(judge, settings or make_settings())
        try:
            return await backend.judge(CASE)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def judged(server: ChatServer, *answers: Any) -> tuple[Verdict, Script]:
    """The verdict when the server's chat route answers `answers`; and the route's record."""
    with chat_script(server, answers) as route:
        return judge_once(), route


def test_success_parses_prediction_reason_tokens_and_sends_the_request(
    server: ChatServer,
) -> None:
    content = json.dumps({"reason": "Rome is not in the document", "consistency": 0})
    verdict, route = judged(server, reply(200, json=completion(content, total_tokens=42)))

    assert (verdict.prediction, verdict.tokens, verdict.error) == (0, 42, None)
    assert verdict.reason == "Rome is not in the document"
    (request,) = route.calls
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json()
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
def test_unusable_output_is_unscored_with_cause_and_raw(
    server: ChatServer, content: str, cause: str
) -> None:
    verdict, _ = judged(server, reply(200, json=completion(content)))

    assert verdict.prediction is None
    assert verdict.error is not None and cause in verdict.error
    assert verdict.raw == content
    assert verdict.tokens == 42


def test_401_is_unscored_and_never_shows_the_key(server: ChatServer) -> None:
    body = {"message": f"Unauthorized: invalid key {KEY}"}  # a server that echoes the key
    verdict, _ = judged(server, reply(401, json=body))

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("HTTP 401")
    assert "Unauthorized" in verdict.error
    assert KEY not in verdict.model_dump_json()


def test_500_is_unscored_with_cause(server: ChatServer) -> None:
    verdict, route = judged(server, reply(500, json={"message": "upstream model crashed"}))

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("HTTP 500")
    assert "upstream model crashed" in verdict.error
    assert route.call_count == 1  # neither transport retries by itself


def test_429_cause_names_retry_after(server: ChatServer) -> None:
    limited = reply(429, json={"message": "rate limited"}, headers={"Retry-After": "2"})
    verdict, _ = judged(server, limited)

    assert verdict.error is not None and verdict.error.startswith("HTTP 429 (retry after 2s)")


def test_200_that_is_not_a_chat_completion_is_unscored(server: ChatServer) -> None:
    verdict, _ = judged(server, reply(200, json={"hello": "world"}))

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("invalid response (HTTP 200)")
    assert verdict.raw is not None and "hello" in verdict.raw


def test_a_dropped_connection_is_unscored_not_raised(server: ChatServer) -> None:
    verdict, route = judged(server, HANGUP)

    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith("request failed: ")
    assert route.call_count == 1


@pytest.mark.parametrize("value", [None, "", " \n"], ids=["unset", "empty", "blank"])
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


@pytest.fixture
def dead_url() -> str:
    with ChatServer() as closed:
        return closed.url  # closed on exit: nothing listens there any more


def test_mistral_server_url_is_honoured(server: ChatServer, dead_url: str) -> None:
    ok = completion('{"reason": "ok", "consistency": 1}')
    with chat_script(server, [reply(200, json=ok)]) as route:
        # the env var (the server fixture) beats ini
        verdict = judge_once(settings=make_settings(mistral_server_url=dead_url))

    assert verdict.prediction == 1 and route.call_count == 1


def test_ini_server_url_is_used_without_the_env_var(
    server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_SERVER_URL")
    ok = completion('{"reason": "ok", "consistency": 1}')
    with chat_script(server, [reply(200, json=ok)]) as route:
        verdict = judge_once(settings=make_settings(mistral_server_url=server.url))

    assert verdict.prediction == 1 and route.call_count == 1


def test_the_judges_own_server_url_wins(dead_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_SERVER_URL", dead_url)
    ok = completion('{"reason": "ok", "consistency": 1}')
    with ChatServer() as own, chat_script(own, [reply(200, json=ok)]) as route:
        judge = JUDGE.model_copy(update={"server_url": own.url})
        verdict = judge_once(judge=judge)

    assert verdict.prediction == 1 and route.call_count == 1


def test_the_toy_judge_of_a_loopback_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServer(api_key=KEY) as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        verdict = judge_once()

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
        verdict = judge_once()

    assert verdict.error is not None and verdict.error.startswith("HTTP 401")
    assert KEY not in verdict.error
    assert server.requests[0].auth_present and not server.requests[0].auth_valid


def test_refused_connection_is_unscored(
    dead_url: str, monkeypatch: pytest.MonkeyPatch, transport: Transport
) -> None:
    monkeypatch.setenv("MISTRAL_SERVER_URL", dead_url)

    verdict = judge_once()

    cause = {"http": "ClientConnectorError", "sdk": "ConnectError"}[transport]
    assert verdict.prediction is None
    assert verdict.error is not None and verdict.error.startswith(f"request failed: {cause}: ")


def call_error(server: ChatServer, answer: Any, timeout_s: float = 60.0) -> CallError:
    """The CallError that MistralBackend.call raises for one scripted answer."""

    async def go() -> None:
        backend = MistralBackend(JUDGE, make_settings(timeout_s=timeout_s))
        try:
            await backend.call(CASE)
        finally:
            await backend.aclose()

    with chat_script(server, [answer]), pytest.raises(CallError) as info:
        asyncio.run(go())
    return info.value


@pytest.mark.parametrize(
    ("answer", "status", "retry_after", "permanent", "halts"),
    [
        (reply(429, json={}, headers={"Retry-After": "2"}), 429, 2.0, False, False),
        (reply(503, json={"message": "busy"}), 503, None, False, False),
        (reply(401, json={"message": f"bad key {KEY}"}), 401, None, True, True),
        (reply(404, json={"message": "no such model"}), 404, None, True, True),
        (reply(422, json={"message": "bad request"}), 422, None, True, False),
        (reply(200, json={"hello": "world"}), 200, None, True, False),
        (HANGUP, None, None, False, False),
        (Delay(5, reply(200, json=completion("{}"))), None, None, False, False),
    ],
    ids=["429", "503", "401", "404", "422", "invalid-200", "hangup", "timeout"],
)
def test_call_raises_typed_errors(
    server: ChatServer,
    answer: Any,
    status: int | None,
    retry_after: float | None,
    permanent: bool,
    halts: bool,
) -> None:
    error = call_error(server, answer, timeout_s=0.5)

    assert (error.status, error.retry_after, error.permanent, error.halts) == (
        status,
        retry_after,
        permanent,
        halts,
    )
    assert KEY not in str(error) and KEY not in (error.raw or "")


def test_call_names_a_timeout(server: ChatServer) -> None:
    error = call_error(server, Delay(5, reply(200, json=completion("{}"))), timeout_s=0.3)

    assert error.message == "request timed out after 0.3s"  # the same on both transports


def test_call_returns_the_raw_text_and_tokens_and_parse_reads_them(server: ChatServer) -> None:
    async def go() -> tuple[ModelResponse, Verdict]:
        backend = MistralBackend(JUDGE, make_settings())
        try:
            response = await backend.call(CASE)
        finally:
            await backend.aclose()
        return response, backend.parse(response)

    content = '{"reason": "r", "consistency": 1}'
    with chat_script(server, [reply(200, json=completion(content))]):
        response, verdict = asyncio.run(go())

    assert response == ModelResponse(content, 42, prompt_tokens=30, completion_tokens=12)
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
            verdict = judge_once()
        assert verdict.prediction == 0
        request = server.requests[0]
        assert request.auth_valid
        headers = {k: request.headers.get(k) for k in ("user-agent", "accept", "content-type")}
        seen[name] = (request.body, headers)

    assert seen["http"] == seen["sdk"]
    assert seen["http"][1]["user-agent"].startswith("mistral-client-python/")


def test_text_chunks_are_joined(server: ChatServer) -> None:
    body = completion("")
    body["choices"][0]["message"]["content"] = [
        {"type": "text", "text": '{"reason": "ok", '},
        {"type": "text", "text": '"consistency": 1}'},
    ]
    verdict, _ = judged(server, reply(200, json=body))

    assert (verdict.prediction, verdict.reason) == (1, "ok")


def test_200_that_is_not_json_is_an_http_error(server: ChatServer) -> None:
    error = call_error(server, reply(200, text="<html>proxy login</html>"))

    assert (error.status, error.permanent) == (200, False)
    assert error.message.startswith("HTTP 200: <html>proxy login</html>")


@pytest.mark.parametrize(
    ("label", "alternatives", "expected"),
    [
        ("1", {"1": -0.2, "0": -1.8}, 1 / (1 + 2.718281828459045 ** (-1.6))),
        ("0", {"0": -0.1, "1": -2.4}, 1 / (1 + 2.718281828459045**2.3)),
        ("1", {"1": -0.05}, 2.718281828459045**-0.05),  # only the chosen label listed
        ("0", {"0": -0.05}, 1 - 2.718281828459045**-0.05),
    ],
)
def test_the_label_probability_is_read_where_the_answer_gives_its_label(
    label: str, alternatives: dict[str, float], expected: float
) -> None:
    from pytest_llmjudge.backends.mistral.wire import label_probability

    top = [{"token": t, "logprob": v} for t, v in alternatives.items()]
    content = [
        {"token": t, "logprob": -0.1, "top_logprobs": []}
        for t in ['{"', "reason", '":', ' "', "in", " 2010", '",', ' "', "consistency", '":', " "]
    ]
    content.append({"token": label, "logprob": alternatives[label], "top_logprobs": top})
    assert label_probability({"logprobs": {"content": content}}) == pytest.approx(expected)
    assert label_probability({"message": {}}) is None  # no log-probabilities: no probability
    # a 0/1 token before '"consistency":' (in the reason) is not the label
    assert label_probability({"logprobs": {"content": content[:5]}}) is None
