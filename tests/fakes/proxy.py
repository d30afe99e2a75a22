"""A tiny forward proxy on 127.0.0.1: CONNECT tunnels (https) and absolute-form requests (http).

It records the first line of every request it relays (`CONNECT host:port HTTP/1.1`,
`POST http://host:port/path HTTP/1.1`) and pipes the bytes both ways; the target must accept the
absolute form (ChatServer does).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from pytest_llmjudge.testing import LoopbackServer


class ForwardProxy(LoopbackServer):
    """Start with `with ForwardProxy() as proxy:`; point HTTPS_PROXY / HTTP_PROXY at proxy.url."""

    thread_name = "forward-proxy"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relay one client's request: tunnel a CONNECT, forward an absolute-form request."""
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.seen.append(line)
            method, target, _ = line.split(" ", 2)
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, upstream = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                url = urlsplit(target)
                up_reader, upstream = await asyncio.open_connection(url.hostname, url.port or 80)
                upstream.write(head)
            await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            if upstream is not None:
                upstream.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
