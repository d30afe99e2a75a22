"""The chat completion POST of chat_http.ChatHTTP over asyncio streams and h11 (the default).

h11 is the HTTP/1.1 state machine under httpx's own stack (httpcore): it frames the request and
parses the answer (Content-Length or chunked, keep-alive or close), and this module owns only the
sockets: a pool of keep-alive connections per client, TLS through the `ssl` module's default
context for https. Importing it costs ~5 ms where aiohttp, the transport it replaced, cost ~0.1 s
(which the first request of every run waited for); bench/scale.py's plain loop over it runs at
1.05x the ideal with ~0.16 ms of CPU per call (aiohttp in the same kind of loop, measured before
the switch: 1.08x, ~0.23 ms).
The request (URL path, JSON body, Bearer auth, user-agent, JSON mode) is ChatHTTP's, and the answer
goes through the same `read_completion` / `transport_error`, so both raise the same CallErrors.
Unlike ChatHTTP (httpx reads HTTPS_PROXY), it connects to the server directly: behind a proxy,
use the `http` transport.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

import h11

from pytest_llmjudge.backends.chat_http import (
    CHAT_PATH,
    read_completion,
    request_headers,
    transport_error,
)
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.errors import CallError

_READ = 65536


class _Connection:
    """One keep-alive HTTP/1.1 connection: its streams and its h11 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.state = h11.Connection(our_role=h11.CLIENT)

    def stale(self) -> bool:
        """The server closed it while it sat in the pool."""
        return self.reader.at_eof() or self.writer.is_closing()

    async def exchange(
        self, request: h11.Request, data: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; its status, headers (lower-case names) and body."""
        state = self.state
        self.writer.write(state.send(request) + state.send(h11.Data(data=data)))
        self.writer.write(state.send(h11.EndOfMessage()))
        await self.writer.drain()
        status, headers, parts = 0, {}, []
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                state.receive_data(await self.reader.read(_READ))  # b"" is the server's EOF
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return status, headers, b"".join(parts)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection without an answer")

    def reusable(self) -> bool:
        """Ready for the next request (neither side asked to close): then reset for it."""
        if self.state.our_state is h11.DONE and self.state.their_state is h11.DONE:
            self.state.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self.writer.close()


class ChatH11:
    """POSTs chat completions to one server over h11; raises CallError like ChatHTTP.

    Args:
        api_key: the Bearer token (None sends no Authorization header, as the SDK does).
        server_url: the server's base URL, e.g. https://api.mistral.ai (a path prefix is kept).
        timeout_s: the request timeout (connecting included).
        pool: idle connections kept open (at least the batch's concurrency).
    """

    def __init__(self, api_key: str | None, server_url: str, timeout_s: float, pool: int = 32):
        url = urlsplit(server_url.rstrip("/"))
        self.headers = request_headers(api_key)
        self._tls = url.scheme == "https"
        self._host = url.hostname or ""
        try:
            port = url.port
        except ValueError:  # a port that is not a number
            port = None
            self._host = ""
        self._port = port or (443 if self._tls else 80)
        self._netloc = url.netloc.rpartition("@")[2]
        self._target = url.path + CHAT_PATH
        self._invalid = (
            None
            if url.scheme in ("http", "https") and self._host
            else f"invalid server URL {server_url!r}: expected http[s]://HOST[:PORT][/PATH]"
        )
        self._timeout_s = timeout_s
        self._pool = max(pool, 20)
        self._idle: list[_Connection] = []
        self._ssl: ssl.SSLContext | None = None

    async def complete(self, body: dict[str, Any]) -> ModelResponse:
        """Send one chat completion request; the text and tokens of its first choice."""
        if self._invalid is not None:
            raise CallError(self._invalid, permanent=True)
        data = json.dumps(body).encode()
        request = h11.Request(
            method="POST",
            target=self._target,
            headers=[
                ("host", self._netloc),
                ("content-length", str(len(data))),
                *self.headers.items(),
            ],
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                connection = await self._connection()
                try:
                    status, headers, content = await connection.exchange(request, data)
                except BaseException:
                    connection.close()
                    raise
        except TimeoutError as exc:
            raise transport_error(exc, timed_out=True) from None
        except (OSError, EOFError, h11.ProtocolError) as exc:
            raise transport_error(exc, timed_out=False) from None
        if connection.reusable() and len(self._idle) < self._pool:
            self._idle.append(connection)
        else:
            connection.close()
        return read_completion(status, headers, content)

    async def _connection(self) -> _Connection:
        """An idle connection from the pool, else a new one."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.stale():
                return connection
            connection.close()
        if self._tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        reader, writer = await asyncio.open_connection(
            self._host,
            self._port,
            ssl=self._ssl if self._tls else None,
            server_hostname=self._host if self._tls else None,
            limit=_READ,
        )
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            try:
                await connection.writer.wait_closed()
            except (OSError, ssl.SSLError):  # already reset by the server: nothing to close
                pass
