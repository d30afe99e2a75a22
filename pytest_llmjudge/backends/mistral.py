"""Mistral chat completions in JSON mode (the only mistralai import).

Three transports send the same request: `h11` (chat_h11.ChatH11, the default: one POST over
asyncio streams framed by h11, ~0.2 ms of CPU), `http` (chat_http.ChatHTTP: the same POST through
httpx2, ~1 ms) and `sdk` (the official SDK's chat.complete_async, ~5-15 ms). An injected httpx
client (tests mock it with respx) is always driven by ChatHTTP, also under `h11`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.calls.retry import parse_retry_after
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict, parse_verdict
from pytest_llmjudge.settings import Settings

API_KEY_ENV = "MISTRAL_API_KEY"
SERVER_URL_ENV = "MISTRAL_SERVER_URL"
MISSING_KEY = f"{API_KEY_ENV} is not set: set it in the environment to run Mistral judges"
DEFAULT_SERVER_URL = "https://api.mistral.ai"
RESPONSE_FORMAT = {"type": "json_object"}

if TYPE_CHECKING:
    import httpx  # imported when the sdk transport is used: the plugin imports this module early


def server_url(judge: Judge, settings: Settings) -> str | None:
    """The server of a Mistral judge: the judge's own, else MISTRAL_SERVER_URL, else the ini key."""
    return judge.server_url or os.environ.get(SERVER_URL_ENV) or settings.mistral_server_url


class MistralBackend:
    """Asks a Mistral (or Mistral-compatible) chat model for a JSON verdict (a ModelBackend)."""

    name = "mistral"

    def __init__(
        self, judge: Judge, settings: Settings, async_client: httpx.AsyncClient | None = None
    ) -> None:
        self._judge = judge
        self.notes: list[str] = []
        self._settings = settings
        self._key = os.environ.get(API_KEY_ENV) or None
        self._async_client = async_client
        self._client: Any = None
        self._chat: Any = None  # chat_http.ChatHTTP / chat_h11.ChatH11
        self.transport = settings.scale.transport

    def unavailable(self) -> str | None:
        return None if self._key else MISSING_KEY

    @property
    def judge_spec(self) -> Judge:
        """The judge this backend asks."""
        return self._judge

    @property
    def api_key(self) -> str | None:
        """The API key (from MISTRAL_API_KEY), for the batch client of the same server."""
        return self._key

    def _sdk(self) -> Any:
        if self._client is None:
            from mistralai.client import Mistral

            self._client = Mistral(
                api_key=self._key,
                server_url=server_url(self._judge, self._settings),
                async_client=self._async_client,  # type: ignore[arg-type]  # httpx, not httpx2
                timeout_ms=int(self._settings.timeout_s * 1000),
            )
        return self._client

    def limit_key(self) -> str:
        """Requests to one server share its rate limit."""
        return f"mistral:{server_url(self._judge, self._settings) or DEFAULT_SERVER_URL}"

    def request_params(self, case: Case) -> dict[str, Any]:
        """The chat request's parameters for `case` (a generator subclass sends other ones)."""
        judge = self._judge
        return {
            "model": judge.model,
            "messages": judge.messages(case),
            "response_format": RESPONSE_FORMAT,
            "temperature": judge.temperature,
            "max_tokens": judge.max_tokens,
        }

    def request_identity(self, case: Case) -> dict[str, Any]:
        """What determines the answer: server, model, messages, sampling (never the key)."""
        return {
            "backend": self.name,
            "server": server_url(self._judge, self._settings) or DEFAULT_SERVER_URL,
            **self.request_params(case),
        }

    def chat_body(self, case: Case) -> dict[str, Any]:
        """The JSON body of the chat completion request for `case`, as the SDK sends it."""
        judge = self._judge
        return {
            "model": judge.model,
            "messages": judge.messages(case),
            "temperature": judge.temperature,
            "max_tokens": judge.max_tokens,
            "stream": False,
            "response_format": RESPONSE_FORMAT,
        }

    def _http(self) -> Any:
        if self._chat is None and self.transport == "h11" and self._async_client is None:
            from pytest_llmjudge.backends.chat_h11 import ChatH11

            self._chat = ChatH11(
                self._key,
                server_url(self._judge, self._settings) or DEFAULT_SERVER_URL,
                self._settings.timeout_s,
                pool=self._settings.concurrency,
            )
        if self._chat is None:
            from pytest_llmjudge.backends.chat_http import ChatHTTP

            self._chat = ChatHTTP(
                self._key,
                server_url(self._judge, self._settings) or DEFAULT_SERVER_URL,
                self._settings.timeout_s,
                pool=self._settings.concurrency,
                client=self._async_client,
            )
            self._async_client = None  # owned by the ChatHTTP now
        return self._chat

    async def call(self, case: Case) -> ModelResponse:
        """One chat completion; HTTP, SDK, httpx and httpx2 errors are raised as CallError."""
        if self.transport != "sdk":
            response: ModelResponse = await self._http().complete(self.chat_body(case))
            return response
        return await self._call_sdk(case)

    async def _call_sdk(self, case: Case) -> ModelResponse:
        import httpx
        from mistralai.client.errors import MistralError, NoResponseError, ResponseValidationError

        timeouts: tuple[type[BaseException], ...] = (httpx.TimeoutException, *_httpx2_errors(1))
        transport_errors: tuple[type[BaseException], ...] = (
            httpx.HTTPError,
            NoResponseError,
            *_httpx2_errors(0),
        )
        try:
            response = await self._sdk().chat.complete_async(**self.request_params(case))
        except ResponseValidationError as exc:  # a 2xx whose body is not a chat completion
            raise CallError(
                redact(f"invalid response (HTTP {exc.status_code}): {_short(exc.message)}"),
                status=exc.status_code,
                permanent=True,
                raw=redact(_short(exc.body)),
            ) from None
        except MistralError as exc:
            raise CallError(
                redact(_http_error(exc.status_code, exc.body, exc.headers)),
                status=exc.status_code,
                retry_after=parse_retry_after(_header(exc.headers, "retry-after")),
            ) from None
        except timeouts as exc:
            raise CallError(redact(f"request timed out: {type(exc).__name__}: {exc}")) from None
        except transport_errors as exc:
            raise CallError(redact(f"request failed: {type(exc).__name__}: {exc}")) from None
        tokens = response.usage.total_tokens if response.usage else None
        if not response.choices:
            raise CallError("response has no choices", status=200, permanent=True)
        return ModelResponse(_text(response.choices[0].message.content), tokens)

    def parse(self, response: ModelResponse) -> Verdict:
        """The verdict in a chat completion's text (unscored when ambiguous)."""
        return parse_verdict(response.text).model_copy(update={"tokens": response.tokens})

    async def judge(self, case: Case) -> Verdict:
        """One try, errors as unscored verdicts (the runner's reliable path uses call())."""
        try:
            return self.parse(await self.call(case))
        except CallError as exc:
            return Verdict.unscored(exc.message, raw=exc.raw)

    async def aclose(self) -> None:
        """Close the SDK's own clients and the injected one (this backend owns it)."""
        chat, self._chat = self._chat, None
        if chat is not None:
            await chat.aclose()
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)
            client.__exit__(None, None, None)
        injected, self._async_client = self._async_client, None
        if injected is not None:
            await injected.aclose()


def _httpx2_errors(which: int) -> tuple[type[BaseException], ...]:
    """The SDK's default transport raises httpx2 errors (a fork of httpx, not its subclass):
    which=0 all of them, which=1 timeouts."""
    try:
        import httpx2
    except ImportError:  # pragma: no cover - an SDK that no longer uses httpx2
        return ()
    return (httpx2.TimeoutException,) if which else (httpx2.HTTPError,)


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None


def _http_error(status: int, body: str, headers: Any) -> str:
    """The cause of an HTTP error status, with Retry-After when the server sent one."""
    retry_after = headers.get("retry-after") if headers is not None else None
    after = f" (retry after {retry_after}s)" if retry_after else ""
    return f"HTTP {status}{after}: {_short(body) or '(empty body)'}"


def _text(content: Any) -> str | None:
    """The text of a message's content: a string, or the text chunks of a chunk list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [getattr(chunk, "text", None) for chunk in content]
        texts = [part for part in parts if isinstance(part, str)]
        return "".join(texts) if texts else None
    return None


def _short(body: str, limit: int = 300) -> str:
    body = " ".join(body.split())
    return body if len(body) <= limit else body[:limit] + "..."
