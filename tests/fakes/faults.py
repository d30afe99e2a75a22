"""A loopback fault server: a Mistral chat endpoint whose answers break the ways servers break.

`FaultServer(plan)` serves HTTP/1.1 on 127.0.0.1 from a daemon thread; `plan(index)` picks the
fault of the chat request number `index` (from 0): a good answer, an HTTP status with any body
and headers, a connection reset halfway through the body, a hang before or after the headers, a
body shorter than its Content-Length, a 200 that is not JSON, a huge answer, or an error body
that echoes the request's Authorization header (plain, escaped, placed across a cut).
`refused_url()` is an address where nothing listens. Nothing here leaves loopback.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_llmjudge.testing import CHAT_PATH, LoopbackServer, completion, toy_judge


@dataclass(frozen=True)
class Fault:
    """What the server does with one chat request.

    Attributes:
        kind: ok, status, reset, hang_before, hang_after, truncated, echo (an error body
            echoing the Authorization header) or echo_answer (a 200 whose answer, a JSON
            verdict, gives the header in its reason).
        status: the HTTP status sent (ok: 200).
        body: the body sent as it is (None: a completion of `content`, or the toy judge's).
        content: the answer of an ok completion (None: the toy judge's answer).
        headers: extra headers.
        echo: for kinds echo and echo_answer, how the Authorization header is echoed: plain,
            json (every character as a \\uXXXX escape) or repr (Python's bytes repr, in a text
            body).
        cut: pad the body (echo) or answer (echo_answer) so that a cut after `cut` characters
            falls just before the header's last character (0: no padding).
    """

    kind: str = "ok"
    status: int = 200
    body: bytes | None = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    echo: str = "plain"
    cut: int = 0


OK = Fault()


def status(code: int, body: Any = None, headers: dict[str, str] | None = None) -> Fault:
    """An HTTP error (or any status) with a JSON body."""
    payload = json.dumps(body if body is not None else {"message": f"status {code}"}).encode()
    return Fault(
        "status", code, payload, headers={"Content-Type": "application/json", **(headers or {})}
    )


def echoed(authorization: str, form: str) -> str:
    """How an echoing server writes an Authorization header in its error body."""
    if form == "json":
        return "".join(f"\\u{ord(c):04x}" for c in authorization)
    if form == "repr":
        return repr(authorization.encode())
    return authorization


def echo_answer(authorization: str, form: str, cut: int = 0) -> str:
    """A JSON verdict whose reason echoes `authorization` (see Fault.echo and Fault.cut)."""
    header = echoed(authorization, form)
    prefix = '{"consistency": 0, "reason": "called with '
    pad = "y" * max(0, cut - len(prefix) - len(header) + 1) if cut else ""
    return f'{prefix}{pad}{header}"}}'


def echo_body(authorization: str, form: str, cut: int = 0) -> tuple[bytes, str]:
    """An error body echoing `authorization` (see Fault.echo and Fault.cut), its content type."""
    header = echoed(authorization, form)
    prefix = "error: " if form == "repr" else '{"message": "rejected '
    pad = "x" * max(0, cut - len(prefix) - len(header) + 1) if cut else ""
    if form == "repr":  # a server's own error page, as Python prints a header
        return f"{prefix}{pad}{header}".encode(), "text/plain"
    return f'{prefix}{pad}{header} for this request"}}'.encode(), "application/json"


class FaultServer(LoopbackServer):
    """A Mistral-compatible chat endpoint on loopback answering each request per `plan`.

    Attributes:
        count: chat requests received (hanging ones included).
        authorizations: the distinct Authorization headers received (for the key checks).
    """

    thread_name = "fault-server"

    def __init__(self, plan: Callable[[int], Fault]) -> None:
        super().__init__()
        self.plan = plan
        self.count = 0
        self.authorizations: set[str] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve a connection's requests, each answered (or failed) per `plan`."""
        try:
            while await self._exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = (head[0].split(" ") + ["", ""])[1]
        pairs = (line.partition(":") for line in head[1:] if line)
        headers = {name.strip().lower(): value.strip() for name, _, value in pairs}
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
        if path.split("?")[0] != CHAT_PATH:
            await self._send(writer, 404, b'{"message": "no such route"}', {}, close=True)
            return False
        index, self.count = self.count, self.count + 1
        authorization = headers.get("authorization", "")
        self.authorizations.add(authorization)
        fault = self.plan(index)
        if fault.kind == "hang_before":
            await reader.read()  # until the client gives up and closes
            return False
        content = fault.content
        if fault.kind == "echo_answer":
            content = echo_answer(authorization, fault.echo, fault.cut)
        body = fault.body if fault.body is not None else self._completion(raw, content)
        extra = {"Content-Type": "application/json", **fault.headers}
        if fault.kind == "echo":
            body, extra["Content-Type"] = echo_body(authorization, fault.echo, fault.cut)
        if fault.kind in ("hang_after", "reset", "truncated"):
            head_only = self._head(fault.status, len(body), extra, close=True)
            if fault.kind == "hang_after":
                writer.write(head_only)
                await writer.drain()
                await reader.read()
                return False
            writer.write(head_only + body[: len(body) // 2])
            await writer.drain()
            if fault.kind == "reset":  # RST, not FIN: SO_LINGER with a zero timeout
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            return False
        await self._send(writer, fault.status, body, extra, close=False)
        return True

    @staticmethod
    def _completion(raw: bytes, content: str | None) -> bytes:
        request = json.loads(raw or b"{}")
        messages = request.get("messages") or []
        answer = content if content is not None else toy_judge(messages)
        return json.dumps(completion(str(request.get("model", "")), answer, messages)).encode()

    @staticmethod
    def _head(code: int, length: int, extra: dict[str, str], close: bool) -> bytes:
        lines = [f"HTTP/1.1 {code} Fault", f"Content-Length: {length}"]
        lines.append(f"Connection: {'close' if close else 'keep-alive'}")
        lines += [f"{name}: {value}" for name, value in extra.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        code: int,
        body: bytes,
        extra: dict[str, str],
        close: bool,
    ) -> None:
        writer.write(self._head(code, len(body), extra, close) + body)
        await writer.drain()


def refused_url() -> str:
    """An http URL on loopback where nothing listens (a connection is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
