"""MistralClient: every Mistral HTTP call of the package, over one aiohttp session per event loop.

Chat completions, files (multipart upload, content download), batch jobs, the retired fine-tuning
jobs contract and model cards: Bearer auth from MISTRAL_API_KEY, the SDK's user-agent, JSON
bodies. Every failure is a `CallError` (wire.py maps statuses, Retry-After, timeouts and
connection errors the same way for every transport), its message free of the key.

aiohttp owns the HTTP framing, TLS and the connection pool. Proxies come from the environment
(HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read by urllib's getproxies / proxy_bypass, the lookup
aiohttp's trust_env=True makes) once per session, for the one server of the client. trust_env
itself is off: in aiohttp 3.14 it sends every request through two worker-thread hops (the proxy
lookup and a ~/.netrc read), which doubled the client's CPU per call on the bench's loop, and a
~/.netrc entry for the host would clash with our Authorization header. The TLS context is built
when a session is, so SSL_CERT_FILE / SSL_CERT_DIR set by then are honoured (aiohttp's default
context is built once, at import); a session to an http server builds none.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp

from pytest_llmjudge.backends.mistral.wire import (
    CHAT_PATH,
    read_completion,
    request_headers,
    short,
    status_error,
    transport_error,
)
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.errors import CallError

_SSL: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _ssl_context() -> ssl.SSLContext:
    """The default verifying context for the CA settings in the environment now."""
    where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if where not in _SSL:
        _SSL[where] = ssl.create_default_context()
    return _SSL[where]


def env_proxy(server_url: str) -> str | None:
    """The proxy that the environment names for `server_url` (None: connect directly)."""
    url = urlsplit(server_url)
    if url.hostname and proxy_bypass(url.hostname):  # NO_PROXY
        return None
    return getproxies().get(url.scheme) or None


def _invalid_url(server_url: str) -> str | None:
    url = urlsplit(server_url)
    try:
        url.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return _bad(server_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return _bad(server_url)
    return None


def _bad(server_url: str) -> str:
    return f"invalid server URL {server_url!r}: expected http[s]://HOST[:PORT][/PATH]"


class Answer:
    """An HTTP answer: status, headers (case-insensitive) and body."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class MistralClient:
    """One Mistral (or Mistral-compatible) server.

    Args:
        api_key: the Bearer token (None sends no Authorization header, as the SDK does).
        server_url: the server's base URL, e.g. https://api.mistral.ai (a path prefix is kept).
        timeout_s: each request's timeout, connecting included.
        pool: connections kept open (at least the batch's concurrency).
    """

    def __init__(
        self, api_key: str | None, server_url: str, timeout_s: float, pool: int = 32
    ) -> None:
        self.base = server_url.rstrip("/")
        self.headers = request_headers(api_key)
        self._form_headers = request_headers(api_key, json_body=False)
        self._invalid = _invalid_url(self.base)
        self._timeout_s = timeout_s
        self._pool = max(pool, 20)
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._closers: dict[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = {}
        self._proxy: str | None = None

    async def _session(self) -> aiohttp.ClientSession:
        """The session of the running loop (a new one on a loop seen for the first time)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            for old in [k for k in self._sessions if k.is_closed()]:
                del self._sessions[old], self._closers[old]
            # an http server needs no TLS context (building one reads the CAs: ~20 ms)
            tls = _ssl_context() if self.base.startswith("https:") else True
            connector = aiohttp.TCPConnector(limit=max(self._pool, 100), ssl=tls)
            session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout_s)
            )
            self._proxy = env_proxy(self.base)  # HTTPS_PROXY, HTTP_PROXY, NO_PROXY
            self._sessions[loop] = session
            self._closers[loop] = closer = _closer(session)
            await closer.__anext__()  # now the loop closes the session at shutdown_asyncgens()
        return session

    async def send(self, method: str, path: str, **kwargs: Any) -> Answer:
        """One request to `path` (under the base URL); any answer, or a CallError without one."""
        if self._invalid is not None:
            raise CallError(self._invalid, permanent=True)
        kwargs.setdefault("headers", self.headers)
        try:
            session = await self._session()
            async with session.request(
                method, self.base + path, proxy=self._proxy, **kwargs
            ) as response:
                content = await response.read()
                return Answer(response.status, response.headers, content)
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
            raise transport_error(exc, timed_out=True, timeout_s=self._timeout_s) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise transport_error(exc, timed_out=False) from None

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        """Like send(), but an HTTP error status (400 and up) is raised as a CallError."""
        answer = await self.send(method, path, **kwargs)
        if answer.status >= 400:
            raise status_error(answer.status, answer.content, answer.headers)
        return answer

    async def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """A JSON request (`body`, when given, sent as JSON); the JSON object it answers."""
        if body is not None:
            kwargs["data"] = json.dumps(body).encode()
        answer = await self.call(method, path, **kwargs)
        try:
            data = json.loads(answer.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise CallError(
                redact(f"invalid response (HTTP {answer.status}): expected a JSON object"),
                status=answer.status,
                permanent=True,
                raw=redact(short(answer.text)),
            )
        return data

    # chat completions

    async def complete(self, body: dict[str, Any]) -> ModelResponse:
        """One chat completion request; the text and tokens of its first choice."""
        answer = await self.send("POST", CHAT_PATH, data=json.dumps(body).encode())
        return read_completion(answer.status, answer.headers, answer.content)

    # files

    async def upload(self, name: str, content: bytes, purpose: str) -> str:
        """Upload a JSONL file (multipart: `file`, `purpose`); its id."""
        form = aiohttp.FormData()
        form.add_field("purpose", purpose)
        form.add_field("file", content, filename=name, content_type="application/jsonl")
        data = await self.json("POST", "/v1/files", data=form, headers=self._form_headers)
        return str(data["id"])

    async def file_content(self, file_id: str) -> str:
        """A file's content."""
        return (await self.call("GET", f"/v1/files/{file_id}/content")).text

    # batch jobs

    async def create_batch_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a batch job (`input_files` or `requests`, `endpoint`, `model`, ...)."""
        return await self.json("POST", "/v1/batch/jobs", body)

    async def batch_job(self, job_id: str) -> dict[str, Any]:
        """A batch job's current state."""
        return await self.json("GET", f"/v1/batch/jobs/{job_id}")

    async def cancel_batch_job(self, job_id: str) -> dict[str, Any]:
        """Ask the server to cancel a batch job."""
        return await self.json("POST", f"/v1/batch/jobs/{job_id}/cancel")

    # fine-tuning jobs (the retired hosted contract) and model cards

    async def create_fine_tuning_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a fine-tuning job."""
        return await self.json("POST", "/v1/fine_tuning/jobs", body)

    async def start_fine_tuning_job(self, job_id: str) -> dict[str, Any]:
        """Start a job created with auto_start=false."""
        return await self.json("POST", f"/v1/fine_tuning/jobs/{job_id}/start")

    async def fine_tuning_job(self, job_id: str) -> dict[str, Any]:
        """A fine-tuning job's current state."""
        return await self.json("GET", f"/v1/fine_tuning/jobs/{job_id}")

    async def cancel_fine_tuning_job(self, job_id: str) -> dict[str, Any]:
        """Cancel a fine-tuning job."""
        return await self.json("POST", f"/v1/fine_tuning/jobs/{job_id}/cancel")

    async def model_card(self, model_id: str) -> dict[str, Any]:
        """A model's card (`GET /v1/models/{id}`, fine-tuned models included)."""
        return await self.json("GET", f"/v1/models/{model_id}")

    async def aclose(self) -> None:
        """Close every session: this loop's here, another running loop's on that loop (one whose
        loop was closed by asyncio.run() was closed by it, at its shutdown_asyncgens())."""
        sessions, self._sessions, self._closers = self._sessions, {}, {}
        here = asyncio.get_running_loop()
        for loop, session in sessions.items():
            if session.closed or loop.is_closed():
                continue
            if loop is here:
                await session.close()
            elif loop.is_running():
                with suppress(Exception):
                    await asyncio.wrap_future(
                        asyncio.run_coroutine_threadsafe(session.close(), loop)
                    )


async def _closer(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Closes `session` when its loop shuts down its async generators (asyncio.run does, and
    pytest-asyncio), so that a client the caller forgot to aclose() leaks no connection."""
    try:
        yield
    finally:
        if not session.closed:
            await session.close()
