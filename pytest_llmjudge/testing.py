"""Test utilities: a loopback server speaking the Mistral chat-completions protocol.

Other endpoints (files, batch jobs, fine-tuning jobs) can be served by `routes`: a callable per
(method, path) that answers a `Request` with a `Reply`, and may raise `Hangup` to close the
connection without answering.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import random
import re
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

Responder = Callable[[list[dict[str, Any]]], str]
FailHook = Callable[[int, dict[str, Any]], int | None]
# status, body (a JSON object, or bytes sent as they are), extra headers
Reply = tuple[int, dict[str, Any] | bytes, dict[str, str]]
CHAT_PATH = "/v1/chat/completions"
_PHRASES = {s.value: s.phrase for s in HTTPStatus}
_BLOCK = re.compile(r"(Document|Summary):\s*<<<\n?(.*?)\n?>>>", re.DOTALL)
_PLAIN = re.compile(r"Document:\s*\n(.*?)\n\s*Summary:\s*\n(.*?)(?:\n\s*\n|\Z)", re.DOTALL)
_FACT = re.compile(r"\b(?:[A-Z][\w'-]*|\d(?:[\d.,]*\d)?)")
_WORD = re.compile(r"\d(?:[\d.,]*\d)?|[\w'-]+")


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; the Authorization value itself is never stored."""

    body: dict[str, Any]
    headers: dict[str, str]
    auth_present: bool
    auth_valid: bool
    status: int = 0


@dataclass(frozen=True)
class Request:
    """One request to a route, as the server read it (headers with lower-case names)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Route = Callable[[Request], Reply | Awaitable[Reply]]


class Hangup(Exception):  # noqa: N818 - an action, not an error
    """Raised by a route: the server closes the connection without answering."""


def extract_case(text: str) -> tuple[str, str] | None:
    """The last document and summary of a rendered judge prompt, or None."""
    blocks: dict[str, str] = {}
    for label, body in _BLOCK.findall(text):
        blocks[label] = body  # the last one wins: few-shot examples come before the case
    if "Document" in blocks and "Summary" in blocks:
        return blocks["Document"], blocks["Summary"]
    plain = _PLAIN.findall(text)
    return (plain[-1][0], plain[-1][1]) if plain else None


def toy_judge(messages: list[dict[str, Any]]) -> str:
    """A deterministic toy judge: 1 when every name and number of the summary is in the document."""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    case = extract_case(text)
    if case is None:
        return json.dumps({"consistency": 0, "reason": "no document and summary in the prompt"})
    document, summary = case
    known = {w.lower() for w in _WORD.findall(document)}
    missing = [f for f in dict.fromkeys(_FACT.findall(summary)) if f.lower() not in known]
    if missing:
        reason = "not in the document: " + ", ".join(missing)
        return json.dumps({"consistency": 0, "reason": reason})
    reason = "every name and number of the summary is in the document"
    return json.dumps({"consistency": 1, "reason": reason})


def noisy_judge(
    flip: float = 0.5, unparsable: float = 0.0, seed: int = 0, judge: Responder = toy_judge
) -> Responder:
    """A judge that is wrong on purpose: `judge`'s answer with its consistency flipped for a
    share `flip` of the cases, and prose that is not JSON (the judge's reason in a sentence)
    for a share `unparsable`. Which cases is drawn from a hash of the prompt and `seed`, so a
    case gets the same answer on every run; with `judge` right on every case, about `flip` of
    the targets are contradicted."""

    def answer(messages: list[dict[str, Any]]) -> str:
        text = "\n".join(str(m.get("content", "")) for m in messages)
        digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=8).digest()
        draw_flip = int.from_bytes(digest[:4], "big") / 2**32
        draw_prose = int.from_bytes(digest[4:], "big") / 2**32
        verdict = json.loads(judge(messages))
        if draw_flip < flip:
            verdict["consistency"] = 1 - int(verdict["consistency"])
            verdict["reason"] = "on a second reading: " + str(verdict.get("reason", ""))
        if draw_prose < unparsable:
            word = "consistent" if verdict["consistency"] else "not consistent"
            return f"I think the summary is {word} with the document: {verdict.get('reason', '')}"
        return json.dumps(verdict)

    return answer


class LoopbackServer:
    """An asyncio server on 127.0.0.1, served in a daemon thread: `with Server() as server:`, or
    start() and close(). A subclass serves one connection in `handle`; close() cancels the
    connections still open and joins the thread.
    """

    host = "127.0.0.1"
    thread_name = "llmjudge-loopback-server"

    def __init__(self, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls  # a server-side context: serve https (tests build one with trustme)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> Self:
        """Start serving in a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def close(self) -> None:
        """Stop the server, drop its connections and join its thread."""
        if self._thread is None or self._loop is None or self._stop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (the subclass's protocol)."""
        raise NotImplementedError

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=1024, limit=2**22, ssl=self.tls
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except asyncio.CancelledError:  # close(): end quietly (asyncio logs a cancelled handler)
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


class ChatServer(LoopbackServer):
    """A Mistral-compatible chat server on 127.0.0.1, served by asyncio in a daemon thread.

    `rate_429` and `rate_5xx` answer those shares of the chat requests with 429 (with
    Retry-After: `retry_after`) and 500/502/503 (no Retry-After), drawn from `seed`.
    """

    thread_name = "llmjudge-chat-server"

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        rate_429: float = 0.0,
        rate_5xx: float = 0.0,
        retry_after: float = 1.0,
        seed: int = 0,
        api_key: str | None = None,
        responder: Responder = toy_judge,
        status: int | None = None,
        fail: FailHook | None = None,
        tls: ssl.SSLContext | None = None,
        routes: Mapping[tuple[str, str], Route] | None = None,
    ) -> None:
        super().__init__(port, tls)
        self.latency = latency
        self.rate_429 = rate_429
        self.rate_5xx = rate_5xx
        self.retry_after = retry_after
        self.responder = responder
        self.status = status  # when set, every request is answered with this status
        self.fail = fail  # fail(index, body) -> a status to force, or None
        self.routes = dict(routes or {})  # (method, path) -> route; ("POST", CHAT_PATH) too
        self.requests: list[Recorded] = []
        self.count = self.in_flight = self.max_in_flight = 0
        self.connections = 0  # connections accepted (a pooling client reuses them)
        self.first_request_at = self.last_request_at = 0.0  # time.time() of the requests
        self._api_key = api_key
        self._rng = random.Random(seed)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve a connection's requests, one after another (keep-alive)."""
        self.connections += 1
        try:
            while await self._exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, Hangup):
            pass

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request of a connection; False when the connection is done."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, version = (lines[0].split(" ") + ["", "", ""])[:3]
        if "://" in path:  # the absolute form a client sends to an HTTP proxy
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        pairs = (line.partition(":") for line in lines[1:] if line)
        headers = {name.strip().lower(): value.strip() for name, _, value in pairs}
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await self._send(writer, 411, {"message": "send a Content-Length body"}, close=True)
            return False
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        where = path.split("?")[0]
        if (method, where) in self.routes and where != CHAT_PATH:  # not counted as a chat request
            status, payload, extra = await self._answer(method, path, headers, raw)
            await self._send(writer, status, payload, extra, close=not keep)
            return keep
        self.count += 1
        self.last_request_at = time.time()
        self.first_request_at = self.first_request_at or self.last_request_at
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, payload, extra = await self._answer(method, path, headers, raw)
        finally:
            self.in_flight -= 1
        await self._send(writer, status, payload, extra, close=not keep)
        return keep

    async def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        route = self.routes.get((method, path.split("?")[0]))
        if route is not None:
            reply = route(Request(method, path, headers, raw))
            return await reply if inspect.isawaitable(reply) else reply
        if path.split("?")[0].rstrip("/") != CHAT_PATH:
            return 404, _error(f"no route {path}", "not_found"), {}
        if method != "POST":
            return 405, _error(f"{method} not allowed", "method_not_allowed"), {}
        try:
            body = json.loads(raw or b"null")
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            return 400, _error("request body is not a JSON object", "invalid_request"), {}
        token = headers.get("authorization", "")
        present = token.lower().startswith("bearer ") and bool(token[7:].strip())
        expected = self._api_key
        valid = present and (expected is None or hmac.compare_digest(token[7:].strip(), expected))
        index = len(self.requests)
        safe = {k: v for k, v in headers.items() if k != "authorization"}
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        status, payload, extra = self._decide(index, body, valid)
        self.requests.append(Recorded(body, safe, present, valid, status))
        return status, payload, extra

    def _decide(self, index: int, body: dict[str, Any], valid: bool) -> Reply:
        if not valid:
            return 401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex}, {}
        forced = self.status if self.status is not None else (self.fail and self.fail(index, body))
        if forced:
            return forced, _error(f"forced status {forced}", "forced"), {}
        if self.rate_429 > 0 and self._rng.random() < self.rate_429:
            after = {"Retry-After": f"{self.retry_after:g}"}
            return 429, _error("Requests rate limit exceeded", "rate_limited"), after
        if self.rate_5xx > 0 and self._rng.random() < self.rate_5xx:
            status = self._rng.choice((500, 502, 503))
            return status, _error(f"upstream error {status}", "server_error"), {}
        messages = body.get("messages") or []
        try:
            content = self.responder(messages)
        except Exception as exc:  # a broken responder is the test's bug: answer 500 with it
            return 500, _error(f"responder failed: {type(exc).__name__}: {exc}", "internal"), {}
        return 200, completion(str(body.get("model", "")), content, messages), {}

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any] | bytes,
        extra: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        extra = dict(extra or {})
        if isinstance(payload, bytes):
            data = payload
            kind = extra.pop("Content-Type", None) or extra.pop("content-type", None)
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        phrase = _PHRASES.get(status, "Status")
        head = [
            f"HTTP/1.1 {status} {phrase}",
            *([f"Content-Type: {kind}"] if kind else []),
            f"Content-Length: {len(data)}",
            f"Connection: {'close' if close else 'keep-alive'}",
        ]
        head += [f"{name}: {value}" for name, value in extra.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        await writer.drain()


def completion(model: str, content: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A ChatCompletionResponse body answering `content` (tokens counted as words)."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
    done = len(content.split())
    message = {"role": "assistant", "content": content}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    usage = {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": usage,
    }


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"object": "error", "message": message, "type": kind, "param": None, "code": None}
