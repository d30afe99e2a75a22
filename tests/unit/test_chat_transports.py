"""The same loopback cases on every chat transport (http: our aiohttp client; sdk: mistralai).

respx cannot see aiohttp (nor the SDK's httpx2), so these cases use ChatServer on 127.0.0.1: each
one runs on both transports, and the answers and CallErrors must be the same (both read answers
through backends/mistral/wire.py). Proxies: a loopback forward proxy (fakes.proxy) must see the
request when HTTPS_PROXY / HTTP_PROXY point at it, and must not when NO_PROXY names the host."""

from __future__ import annotations

import asyncio
import gc
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from fakes.proxy import ForwardProxy

from pytest_llmjudge import Case, Judge, Verdict
from pytest_llmjudge.backends.mistral import MistralBackend
from pytest_llmjudge.backends.mistral.client import MistralClient
from pytest_llmjudge.calls.loop import LoopThread
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.settings import TRANSPORTS, ScaleSettings, Settings, Transport
from pytest_llmjudge.testing import ChatServer

KEY = "sk-test-0123456789abcdef"
CASE = Case(
    id="c1",
    premise="Alice met Bob in Paris in 2020.",
    hypothesis="Alice met Bob in Rome.",
    target=0,
)
JUDGE = Judge(name="small", model="mistral-small-latest", temperature=0.2, max_tokens=128)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, loopback_env: None) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    return request.param  # type: ignore[no-any-return]


def call(url: str, transport: Transport, **settings: Any) -> ModelResponse | CallError:
    """One MistralBackend.call against `url`: the response, or the CallError it raised."""
    config = Settings(scale=ScaleSettings(transport=transport), mistral_server_url=url, **settings)

    async def go() -> ModelResponse | CallError:
        backend = MistralBackend(JUDGE, config)
        try:
            return await backend.call(CASE)
        except CallError as exc:
            return exc
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_success_sends_the_request_and_reads_text_and_tokens(transport: Transport) -> None:
    with ChatServer(api_key=KEY) as server:
        response = call(server.url, transport)

    assert isinstance(response, ModelResponse)
    verdict = MistralBackend(JUDGE, Settings()).parse(response)
    assert (verdict.prediction, verdict.reason) == (0, "not in the document: Rome")
    assert response.tokens is not None and response.tokens > 0
    seen = server.requests[0]
    assert seen.auth_valid and "authorization" not in seen.headers
    assert seen.body["model"] == JUDGE.model
    assert seen.body["messages"] == JUDGE.messages(CASE)
    assert seen.body["response_format"] == {"type": "json_object"}
    assert (seen.body["temperature"], seen.body["max_tokens"]) == (0.2, 128)


def test_all_transports_send_the_same_request() -> None:
    seen = {}
    for transport in TRANSPORTS:
        with ChatServer(api_key=KEY) as server:
            assert isinstance(call(server.url, transport), ModelResponse)
        request = server.requests[0]
        headers = {k: request.headers.get(k) for k in ("user-agent", "accept", "content-type")}
        seen[transport] = (request.body, headers)

    assert seen["http"] == seen["sdk"]
    assert seen["http"][1]["user-agent"].startswith("mistral-client-python/")


@pytest.mark.parametrize(
    ("status", "permanent", "halts"),
    [(503, False, False), (500, False, False), (404, True, True), (422, True, False)],
)
def test_error_statuses_map_to_the_same_call_error(
    transport: Transport, status: int, permanent: bool, halts: bool
) -> None:
    with ChatServer(api_key=KEY, status=status) as server:
        error = call(server.url, transport)

    assert isinstance(error, CallError)
    assert (error.status, error.retry_after, error.permanent, error.halts) == (
        status,
        None,
        permanent,
        halts,
    )
    assert error.message.startswith(f"HTTP {status}: ") and "forced status" in error.message


def test_429_carries_retry_after(transport: Transport) -> None:
    with ChatServer(api_key=KEY, rate_429=1.0, retry_after=2) as server:
        error = call(server.url, transport)

    assert isinstance(error, CallError)
    assert (error.status, error.retry_after, error.permanent) == (429, 2.0, False)
    assert error.message.startswith("HTTP 429 (retry after 2s): ")


def test_wrong_key_is_a_401_that_halts_and_never_shows_the_key(transport: Transport) -> None:
    with ChatServer(api_key="sk-the-right-one") as server:
        error = call(server.url, transport)

    assert isinstance(error, CallError)
    assert (error.status, error.permanent, error.halts) == (401, True, True)
    assert error.message.startswith("HTTP 401") and KEY not in error.message
    assert server.requests[0].auth_present and not server.requests[0].auth_valid


def test_refused_connection_is_a_transient_failure(transport: Transport) -> None:
    with ChatServer() as server:
        url = server.url  # closed on exit: nothing listens there any more

    error = call(url, transport)

    assert isinstance(error, CallError)
    assert (error.status, error.permanent) == (None, False)
    assert error.message.startswith("request failed: ") and "Connect" in error.message
    cause = {"http": "ClientConnectorError", "sdk": "ConnectError"}[transport]
    assert error.message.startswith(f"request failed: {cause}: ")


def test_a_server_that_hangs_up_is_a_transient_failure(transport: Transport) -> None:
    with ChatServer(api_key=KEY, fail=lambda index, body: 1 / 0) as server:  # type: ignore[arg-type,return-value]
        error = call(server.url, transport)

    assert isinstance(error, CallError)
    assert (error.status, error.permanent) == (None, False)
    assert error.message.startswith("request failed: ")


def test_a_slow_server_is_a_timeout(transport: Transport) -> None:
    with ChatServer(api_key=KEY, latency=1.0) as server:
        error = call(server.url, transport, timeout_s=0.2)

    assert isinstance(error, CallError)
    assert (error.status, error.permanent) == (None, False)
    assert error.message == "request timed out after 0.2s"  # the same on both transports


def test_a_verdict_from_judge_on_every_transport(transport: Transport) -> None:
    with ChatServer(api_key=KEY) as server:
        config = Settings(scale=ScaleSettings(transport=transport), mistral_server_url=server.url)

        async def go() -> Verdict:
            backend = MistralBackend(JUDGE, config)
            try:
                return await backend.judge(CASE)
            finally:
                await backend.aclose()

        verdict = asyncio.run(go())

    assert (verdict.prediction, verdict.error) == (0, None)
    assert verdict.reason == "not in the document: Rome"
    assert verdict.tokens is not None and verdict.tokens > 0


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context for 127.0.0.1 signed by a throwaway CA, which SSL_CERT_FILE trusts."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return context


def test_https_with_a_trusted_certificate(transport: Transport, tls: ssl.SSLContext) -> None:
    with ChatServer(api_key=KEY, tls=tls) as server:
        response = call(server.url, transport)

    assert server.url.startswith("https://127.0.0.1:")
    assert isinstance(response, ModelResponse) and response.tokens
    assert server.requests[0].body["model"] == JUDGE.model


def test_https_with_an_unknown_certificate_authority_fails(
    transport: Transport, tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs, which never signed this certificate
    with ChatServer(api_key=KEY, tls=tls) as server:
        error = call(server.url, transport)

    assert isinstance(error, CallError) and error.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in error.message
    assert server.count == 0  # nothing was sent over the unverified connection


def test_http_reuses_connections_and_recovers_when_the_server_closed_them() -> None:
    async def go(port: int) -> tuple[list[ModelResponse], int, int]:
        chat = MistralClient(KEY, f"http://127.0.0.1:{port}", timeout_s=5)
        body = MistralBackend(JUDGE, Settings()).chat_body(CASE)
        try:
            with ChatServer(api_key=KEY, port=port) as first:
                answers = [await chat.complete(body) for _ in range(3)]
            await asyncio.sleep(0.05)  # the server's close reaches the pooled connection
            with ChatServer(api_key=KEY, port=port) as again:  # same port, new server
                answers.append(await chat.complete(body))
            return answers, first.connections, again.count
        finally:
            await chat.aclose()

    with ChatServer() as probe:
        port = probe.port  # a free port, free again once probe closes
    answers, connections, again = asyncio.run(go(port))

    assert [a.text for a in answers] == [answers[0].text] * 4
    assert connections == 1 and again == 1  # three requests on one kept-alive connection


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:8000", "http://127.0.0.1:port"])
def test_http_names_a_server_url_it_cannot_use(url: str) -> None:
    error = call(url, "http")

    assert isinstance(error, CallError) and error.permanent
    assert error.message == (f"invalid server URL {url!r}: expected http[s]://HOST[:PORT][/PATH]")


def test_the_server_urls_path_prefix_is_kept(transport: Transport) -> None:
    with ChatServer(api_key=KEY) as server:
        error = call(server.url + "/proxy", transport)

    assert isinstance(error, CallError) and error.status == 404  # POST /proxy/v1/chat/completions
    assert "no route /proxy/v1/chat/completions" in error.message


def test_a_key_with_surrounding_whitespace_is_sent_stripped_and_never_shown(
    transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", f"  {KEY}\n")
    with ChatServer(api_key=KEY) as server:
        response = call(server.url, transport)
    with ChatServer(api_key="sk-the-right-one") as server:
        error = call(server.url, transport)

    assert isinstance(response, ModelResponse)
    assert isinstance(error, CallError) and error.status == 401
    assert KEY not in error.message


def test_one_session_per_event_loop_all_closed_by_aclose() -> None:
    body = MistralBackend(JUDGE, Settings()).chat_body(CASE)
    thread = LoopThread()
    with ChatServer(api_key=KEY) as server:
        chat = MistralClient(KEY, server.url, timeout_s=5)
        first = asyncio.run(chat.complete(body))  # its loop is closed when run() returns
        sessions = list(chat._sessions.values())  # closed by asyncio.run's shutdown_asyncgens
        running = thread.run(chat.complete(body))  # a loop that keeps running in its thread
        sessions += [s for s in chat._sessions.values() if s not in sessions]
        assert sessions[0].closed and not sessions[1].closed

        async def last() -> ModelResponse:
            try:
                return await chat.complete(body)
            finally:
                await chat.aclose()

        again = asyncio.run(last())
        thread.close()
        gc.collect()  # an unclosed session or socket would warn here (warnings are errors)

    assert first.text == running.text == again.text and server.connections == 3
    assert len(sessions) == 2 and all(session.closed for session in sessions)
    assert chat._sessions == {}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_requests_go_through_the_proxy_of_the_environment(
    transport: Transport,
    scheme: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = request.getfixturevalue("tls") if scheme == "https" else None
    with ChatServer(api_key=KEY, tls=tls) as server, ForwardProxy() as proxy:
        monkeypatch.setenv(f"{scheme.upper()}_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        response = call(server.url, transport)

    assert isinstance(response, ModelResponse) and server.count == 1
    host = f"127.0.0.1:{server.port}"
    expected = f"CONNECT {host} " if scheme == "https" else f"POST http://{host}/v1/chat/"
    assert [line[: len(expected)] for line in proxy.seen] == [expected]


def test_no_proxy_sends_the_request_directly(
    transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ChatServer(api_key=KEY) as server, ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        response = call(server.url, transport)

    assert isinstance(response, ModelResponse) and server.count == 1
    assert proxy.seen == []
