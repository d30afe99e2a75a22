"""Mistral chat completions in JSON mode through the official SDK (the only mistralai import)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from ..dataset import Case
from ..judge import Judge
from ..secrets import redact
from ..settings import Settings
from ..verdict import Verdict, parse_verdict

API_KEY_ENV = "MISTRAL_API_KEY"
SERVER_URL_ENV = "MISTRAL_SERVER_URL"
MISSING_KEY = f"{API_KEY_ENV} is not set: set it in the environment to run Mistral judges"


def server_url(judge: Judge, settings: Settings) -> str | None:
    """The server of a Mistral judge: the judge's own, else MISTRAL_SERVER_URL, else the ini key."""
    return judge.server_url or os.environ.get(SERVER_URL_ENV) or settings.mistral_server_url


class MistralBackend:
    """Asks a Mistral (or Mistral-compatible) chat model for a JSON verdict."""

    def __init__(
        self, judge: Judge, settings: Settings, async_client: httpx.AsyncClient | None = None
    ) -> None:
        self._judge = judge
        self.notes: list[str] = []
        self._settings = settings
        self._key = os.environ.get(API_KEY_ENV) or None
        self._async_client = async_client
        self._client: Any = None

    def unavailable(self) -> str | None:
        return None if self._key else MISSING_KEY

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

    async def judge(self, case: Case) -> Verdict:
        from mistralai.client.errors import MistralError, NoResponseError, ResponseValidationError

        judge = self._judge
        transport_errors: tuple[type[BaseException], ...] = (
            httpx.HTTPError,
            NoResponseError,
            *_httpx2_errors(),
        )
        try:
            response = await self._sdk().chat.complete_async(
                model=judge.model,
                messages=judge.messages(case),
                response_format={"type": "json_object"},
                temperature=judge.temperature,
                max_tokens=judge.max_tokens,
            )
        except ResponseValidationError as exc:  # a 2xx whose body is not a chat completion
            return Verdict.unscored(
                redact(f"invalid response (HTTP {exc.status_code}): {_short(exc.message)}"),
                raw=redact(_short(exc.body)),
            )
        except MistralError as exc:
            return Verdict.unscored(redact(_http_error(exc.status_code, exc.body, exc.headers)))
        except transport_errors as exc:
            return Verdict.unscored(redact(f"request failed: {type(exc).__name__}: {exc}"))
        tokens = response.usage.total_tokens if response.usage else None
        if not response.choices:
            return Verdict.unscored("response has no choices", tokens=tokens)
        text = _text(response.choices[0].message.content)
        return parse_verdict(text).model_copy(update={"tokens": tokens})

    async def aclose(self) -> None:
        """Close the SDK's own clients and the injected one (this backend owns it)."""
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)
            client.__exit__(None, None, None)
        injected, self._async_client = self._async_client, None
        if injected is not None:
            await injected.aclose()


def _httpx2_errors() -> tuple[type[BaseException], ...]:
    """The SDK's default transport raises httpx2 errors (a fork of httpx, not its subclass)."""
    try:
        import httpx2
    except ImportError:  # pragma: no cover - an SDK that no longer uses httpx2
        return ()
    return (httpx2.HTTPError,)


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
