"""The `sdk` transport: chat completions through the official mistralai SDK (the only module that
imports mistralai), raising the same CallErrors as the aiohttp client.

It costs ~5-15 ms of CPU per call (the SDK builds pydantic model classes on every request), so it
is opt-in (`--llmjudge-transport sdk`); the SDK sends HTTP through its own httpx2 client.
"""

from __future__ import annotations

from typing import Any

from pytest_llmjudge.backends.mistral.wire import (
    header,
    http_error,
    message_text,
    short,
    transport_error,
)
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.calls.retry import parse_retry_after
from pytest_llmjudge.errors import CallError


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, all transport errors) of the HTTP library the SDK sends with (httpx2 in 3.x),
    taken from the SDK itself: our code imports no HTTP library but aiohttp."""
    from mistralai.client import httpclient
    from mistralai.client.errors import NoResponseError

    library = getattr(httpclient, "httpx", None)
    timeouts = getattr(library, "TimeoutException", None)
    failures = getattr(library, "HTTPError", None)
    return (
        (timeouts,) if isinstance(timeouts, type) else (),
        (NoResponseError, *((failures,) if isinstance(failures, type) else ())),
    )


class SDKChat:
    """Chat completions through `Mistral.chat.complete_async` on one server."""

    def __init__(self, api_key: str | None, server_url: str, timeout_s: float) -> None:
        self._key = api_key
        self._url = server_url
        self._timeout_s = timeout_s
        self._client: Any = None

    def _sdk(self) -> Any:
        if self._client is None:
            from mistralai.client import Mistral

            self._client = Mistral(
                api_key=self._key, server_url=self._url, timeout_ms=int(self._timeout_s * 1000)
            )
        return self._client

    async def complete(self, params: dict[str, Any]) -> ModelResponse:
        """One chat completion with the SDK's keyword parameters; HTTP errors as CallError."""
        from mistralai.client.errors import MistralError, ResponseValidationError

        timeouts, failures = _transport_errors()
        try:
            response = await self._sdk().chat.complete_async(**params)
        except ResponseValidationError as exc:  # a 2xx whose body is not a chat completion
            raise CallError(  # masked by CallError (short() masks before it cuts)
                f"invalid response (HTTP {exc.status_code}): {short(exc.message)}",
                status=exc.status_code,
                permanent=True,
                raw=short(exc.body),
            ) from None
        except MistralError as exc:
            raise CallError(
                http_error(exc.status_code, exc.body, exc.headers),
                status=exc.status_code,
                retry_after=parse_retry_after(header(exc.headers, "retry-after")),
            ) from None
        except timeouts as exc:
            raise transport_error(exc, timed_out=True, timeout_s=self._timeout_s) from None
        except failures as exc:
            raise transport_error(exc, timed_out=False) from None
        usage = response.usage
        if not response.choices:
            raise CallError("response has no choices", status=200, permanent=True)
        return ModelResponse(
            message_text(response.choices[0].message.content),
            usage.total_tokens if usage else None,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
        )

    async def aclose(self) -> None:
        """Close the SDK's clients."""
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)
            client.__exit__(None, None, None)
