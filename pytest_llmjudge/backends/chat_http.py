"""A lean client for Mistral chat completions: one POST, raw JSON, no SDK models per call.

The official SDK (`mistralai` 3.x) spends about 5-15 ms of CPU on every call building pydantic
model classes (mistralai/client/utils/serializers.py), which caps a 2-core machine at about 70
judge calls per second. This client speaks the same protocol as `chat.complete_async` (URL path,
JSON body, Bearer auth, user-agent, JSON mode) over the same HTTP library the SDK uses (httpx2),
and raises the same `CallError`s for the same failures, at well under 1 ms of CPU per call. The
SDK stays the selectable `sdk` transport and serves everything else (files, batch jobs, models).

Any client with httpx's API can be injected (tests inject `httpx.AsyncClient` and mock it with
respx; both transports then run the same cases).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.calls.retry import parse_retry_after
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.errors import CallError

CHAT_PATH = "/v1/chat/completions"
INVALID = "Response validation failed"
# the fields the SDK's ChatCompletionResponse requires, with their JSON types
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "object": str,
    "model": str,
    "usage": dict,
    "created": int,
    "choices": list,
}


@lru_cache(maxsize=1)
def user_agent() -> str:
    """The user-agent the installed SDK sends (`mistral-client-python/<version>`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mistral-client-python/{version('mistralai')}"
    except PackageNotFoundError:  # pragma: no cover - mistralai is a dependency
        return "mistral-client-python"


def request_headers(api_key: str | None) -> dict[str, str]:
    """The headers the SDK sends with a chat completion (no Authorization without a key)."""
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "user-agent": user_agent(),
    }
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


class ChatHTTP:
    """POSTs chat completions to one server; raises CallError like the SDK transport.

    Args:
        api_key: the Bearer token (None sends no Authorization header, as the SDK does).
        server_url: the server's base URL, e.g. https://api.mistral.ai.
        timeout_s: the request timeout.
        pool: connections kept open (at least the batch's concurrency).
        client: an httpx-API async client to use instead of a new httpx2 one (then owned).
    """

    def __init__(
        self,
        api_key: str | None,
        server_url: str,
        timeout_s: float,
        pool: int = 32,
        client: Any = None,
    ) -> None:
        self.url = server_url.rstrip("/") + CHAT_PATH
        self.headers = request_headers(api_key)
        self._timeout_s = timeout_s
        self._pool = max(pool, 20)
        self._client = client

    def _http(self) -> Any:
        if self._client is None:
            import httpx2

            self._client = httpx2.AsyncClient(
                timeout=self._timeout_s,
                limits=httpx2.Limits(
                    max_connections=max(self._pool, 100), max_keepalive_connections=self._pool
                ),
            )
        return self._client

    async def complete(self, body: dict[str, Any]) -> ModelResponse:
        """Send one chat completion request; the text and tokens of its first choice."""
        import httpx

        httpx2 = _httpx2()
        timeouts = (httpx.TimeoutException, *((httpx2.TimeoutException,) if httpx2 else ()))
        failures = (httpx.HTTPError, *((httpx2.HTTPError,) if httpx2 else ()))
        try:
            response = await self._http().post(
                self.url, content=json.dumps(body).encode(), headers=self.headers
            )
            content = response.content
        except timeouts as exc:
            raise transport_error(exc, timed_out=True) from None
        except failures as exc:
            raise transport_error(exc, timed_out=False) from None
        return read_completion(response.status_code, response.headers, content)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def transport_error(exc: BaseException, timed_out: bool) -> CallError:
    """The CallError of a request that got no HTTP answer (a timeout, a refused connection)."""
    what = "timed out" if timed_out else "failed"
    return CallError(redact(f"request {what}: {type(exc).__name__}: {exc}"))


def read_completion(status: int, headers: Any, content: bytes) -> ModelResponse:
    """A chat completion's text and tokens, or the CallError the SDK transport raises for it.

    Shared by every transport that sees the raw HTTP answer (http, h11), so that their
    error mapping cannot drift: `headers` is any case-insensitive mapping with .get()."""
    text = content.decode("utf-8", errors="replace")
    is_json = "json" in (headers.get("content-type") or "").lower()
    if status != 200 or not is_json:  # the SDK: 4XX/5XX "API error", else "Unexpected response"
        raise CallError(
            redact(http_error(status, text, headers)),
            status=status,
            retry_after=parse_retry_after(_header(headers, "retry-after")),
        )
    try:
        data = json.loads(text)
        problem = _invalid(data)
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    if problem is not None:  # a 2xx whose body is not a chat completion
        raise CallError(
            redact(f"invalid response (HTTP {status}): {INVALID}: {problem}"),
            status=status,
            permanent=True,
            raw=redact(short(text)),
        )
    usage = data["usage"]
    tokens = usage.get("total_tokens") if isinstance(usage.get("total_tokens"), int) else None
    if not data["choices"]:
        raise CallError("response has no choices", status=200, permanent=True)
    return ModelResponse(message_text(data["choices"][0]["message"].get("content")), tokens)


def _invalid(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    for name, kind in _REQUIRED.items():
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            return f"field {name!r} missing or not a {getattr(kind, '__name__', kind)}"
    for choice in data["choices"]:
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            return "a choice without a message"
    return None


def message_text(content: Any) -> str | None:
    """The text of a message's content: a string, or the text chunks of a chunk list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            chunk.get("text") if isinstance(chunk, dict) else getattr(chunk, "text", None)
            for chunk in content
        ]
        texts = [part for part in parts if isinstance(part, str)]
        return "".join(texts) if texts else None
    return None


def http_error(status: int, body: str, headers: Any) -> str:
    """The cause of an HTTP error status, with Retry-After when the server sent one."""
    retry_after = _header(headers, "retry-after")
    after = f" (retry after {retry_after}s)" if retry_after else ""
    return f"HTTP {status}{after}: {short(body) or '(empty body)'}"


def short(body: str, limit: int = 300) -> str:
    """`body` on one line, cut to `limit` characters."""
    body = " ".join(body.split())
    return body if len(body) <= limit else body[:limit] + "..."


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None


def _httpx2() -> Any:
    """The httpx2 module, imported on each use (a cached module object could be a stale copy
    after sys.modules was restored, e.g. by pytester)."""
    try:
        import httpx2
    except ImportError:  # pragma: no cover - an SDK that no longer uses httpx2
        return None
    return httpx2
