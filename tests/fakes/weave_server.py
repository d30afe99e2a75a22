"""A loopback stand-in for W&B and the Weave trace server, for offline tests of the Weave logger.

It answers `/server_info`, W&B GraphQL (`/graphql`) and the trace-server routes that
`weave.EvaluationLogger` uses, records every request, and refuses proxy `CONNECT`s (so that,
with `HTTPS_PROXY` pointed at it, weave's PyPI version check stays on the machine). Unknown
routes get a generic JSON answer but are recorded too, so a test can see what weave sent.

    with WeaveStub() as stub:
        env = stub.environ()            # WANDB_BASE_URL, WF_TRACE_SERVER_URL, a dummy key, proxies
        ...run the logger with env...
        stub.paths()                    # what arrived
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DUMMY_KEY = "x" * 40  # W&B keys are 40 characters; anything that long is accepted here


@dataclass(frozen=True)
class StubRequest:
    """One request as the stub saw it.

    Attributes:
        method: the HTTP method.
        path: the request path (the target as given, for a proxy CONNECT).
        body: the decoded JSON body, the raw text when it was not JSON, or None.
    """

    method: str
    path: str
    body: Any


class WeaveStub:
    """A W&B + Weave trace server on 127.0.0.1, served from a daemon thread."""

    def __init__(self) -> None:
        self.requests: list[StubRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The stub's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def environ(self) -> dict[str, str]:
        """Environment variables that point weave (and any proxy-aware client) at the stub."""
        return {
            "WANDB_BASE_URL": self.url,
            "WF_TRACE_SERVER_URL": self.url,
            "WANDB_API_KEY": DUMMY_KEY,
            "WANDB_ERROR_REPORTING": "false",
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "https_proxy": self.url,
            "http_proxy": self.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def start(self) -> WeaveStub:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="weave-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> WeaveStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: StubRequest) -> None:
        """Store a request (called from the server's threads)."""
        with self._lock:
            self.requests.append(request)

    def paths(self) -> list[str]:
        """The paths requested so far, in arrival order."""
        with self._lock:
            return [r.path for r in self.requests]

    def bodies(self, suffix: str) -> list[Any]:
        """The bodies of the requests whose path ends with `suffix`."""
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith(suffix)]

    def calls(self) -> list[dict[str, Any]]:
        """Every call start/end/complete record that weave sent, in arrival order."""
        found: list[dict[str, Any]] = []
        with self._lock:
            bodies = [r.body for r in self.requests if isinstance(r.body, dict)]
        for body in bodies:
            for key in ("start", "end"):
                if isinstance(body.get(key), dict):
                    found.append(body[key])
            for item in body.get("batch") or []:
                if isinstance(item, dict):
                    req = item.get("req", item)
                    for key in ("start", "end"):
                        if isinstance(req.get(key), dict):
                            found.append(req[key])
                    if "start" not in req and "end" not in req:
                        found.append(req)
        return found

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The status and JSON body of the reply to a request."""
        route = path.split("?", 1)[0]
        if route == "/server_info":
            return 200, {"min_required_weave_python_version": "0.0.0"}
        if route == "/graphql":
            return 200, _graphql(body)
        if route.endswith("/obj/create"):
            return 200, {"digest": _digest(body)}
        if route.endswith("/table/create"):
            rows = (body.get("table") or {}).get("rows", []) if isinstance(body, dict) else []
            return 200, {"digest": _digest(body), "row_digests": [_digest(r) for r in rows]}
        if route.endswith("/table/create_from_digests"):
            return 200, {"digest": _digest(body)}
        if route.endswith("/file/create"):
            return 200, {"digest": _digest(body)}
        if route.endswith("/feedback/create"):
            return 200, {
                "id": str(uuid.uuid4()),
                "created_at": "2026-01-01T00:00:00Z",
                "wb_user_id": "stub",
                "digest": _digest(body),
            }
        if route.endswith("/call/start"):
            start = body.get("start", {}) if isinstance(body, dict) else {}
            return 200, {
                "id": start.get("id") or str(uuid.uuid4()),
                "trace_id": start.get("trace_id") or str(uuid.uuid4()),
            }
        return 200, {}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _graphql(body: Any) -> dict[str, Any]:
    query = body.get("query", "") if isinstance(body, dict) else ""
    variables = (body.get("variables") or {}) if isinstance(body, dict) else {}
    if "upsertModel" in query:
        return {"data": {"upsertModel": {"model": {"name": variables.get("name", "stub")}}}}
    if "project(" in query:
        return {"data": {"project": {"name": variables.get("name", "stub")}}}
    if "viewer" in query:
        return {"data": {"viewer": {"username": "stub", "defaultEntity": {"name": "stub"}}}}
    if "serverInfo" in query:
        return {"data": {"serverInfo": {"frontendHost": ""}}}
    return {"data": {}}


def _handler(stub: WeaveStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
            pass

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                return json.loads(raw)
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self) -> None:
            body = self._body()
            path = self.path
            if "://" in path:  # a plain-HTTP proxy request carries an absolute URL
                path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
            stub.record(StubRequest(self.command, path, body))
            self._reply(*stub.answer(self.command, path, body))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
            stub.record(StubRequest("CONNECT", self.path, None))
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True

    return Handler
