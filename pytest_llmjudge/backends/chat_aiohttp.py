"""The chat completion POST of chat_http.ChatHTTP, sent through aiohttp instead of httpx2.

aiohttp's client spends about half the CPU of httpx2 per request (its HTTP parser is C), which
is what keeps a 2-core machine near the ideal wall time at 32 requests in flight. The request
(URL path, JSON body, Bearer auth, user-agent, JSON mode) is ChatHTTP's, and the answer goes
through the same `read_completion` / `transport_error`, so both raise the same CallErrors.
"""

from __future__ import annotations

import json
from typing import Any

from ..calls import ModelResponse
from .chat_http import CHAT_PATH, read_completion, request_headers, transport_error


class ChatAiohttp:
    """POSTs chat completions to one server over aiohttp; raises CallError like ChatHTTP.

    Args:
        api_key: the Bearer token (None sends no Authorization header, as the SDK does).
        server_url: the server's base URL, e.g. https://api.mistral.ai.
        timeout_s: the request timeout.
        pool: connections kept open (at least the batch's concurrency).
    """

    def __init__(self, api_key: str | None, server_url: str, timeout_s: float, pool: int = 32):
        self.url = server_url.rstrip("/") + CHAT_PATH
        self.headers = request_headers(api_key)
        self._timeout_s = timeout_s
        self._pool = max(pool, 20)
        self._session: Any = None

    def _http(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(self._pool, 100)),
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def complete(self, body: dict[str, Any]) -> ModelResponse:
        """Send one chat completion request; the text and tokens of its first choice."""
        import aiohttp

        session = self._http()
        try:
            async with session.post(
                self.url, data=json.dumps(body).encode(), headers=self.headers
            ) as response:
                content = await response.read()
                status, headers = response.status, response.headers
        except TimeoutError as exc:
            raise transport_error(exc, timed_out=True) from None
        except aiohttp.ClientError as exc:
            raise transport_error(exc, timed_out=False) from None
        return read_completion(status, headers, content)

    async def aclose(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
