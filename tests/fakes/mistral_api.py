"""Scripted routes for pytest_llmjudge.testing.ChatServer: what respx did for httpx, on loopback.

A `Script` answers one (method, path) of a ChatServer with its `answers` in turn (`HANGUP`
closes the connection unanswered, a `Delay` answers late), with `always`, or with `handler`, and
records every request it got (on arrival, so a request that timed out is counted too).
`reply()` builds an answer the way `httpx.Response(status, json=..., text=...)` did (compact
JSON), so causes like 'HTTP 503: {"message":"down"}' read the same as before.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pytest_llmjudge.testing import CHAT_PATH, ChatServer, Hangup, Reply, Request

HANGUP = object()  # in a script: close the connection without an answer


@dataclass(frozen=True)
class Delay:
    """In a script: answer `then` after `seconds` (longer than the client's timeout: a timeout)."""

    seconds: float
    then: Reply


def reply(
    status: int = 200,
    json: Any = None,
    text: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An answer: a JSON body (compact, as httpx wrote it), a text body, or none."""
    extra = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
        extra.setdefault("Content-Type", "application/json")
    elif text is not None:
        body = text.encode()
        extra.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:
        body = b""
    return status, body, extra


class Script:
    """One route's answers; `calls` are the requests it got, in order."""

    def __init__(
        self,
        answers: Iterable[Any] = (),
        always: Reply | None = None,
        handler: Callable[[Request], Any] | None = None,
    ) -> None:
        self.answers = list(answers)
        self.always = always
        self.handler = handler
        self.calls: list[Request] = []

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    async def __call__(self, request: Request) -> Reply:
        self.calls.append(request)
        if self.handler is not None:
            answer = self.handler(request)
            if asyncio.iscoroutine(answer):
                answer = await answer
        elif self.answers:
            answer = self.answers.pop(0)
        elif self.always is not None:
            answer = self.always
        else:
            answer = reply(599, json={"message": "the test's script ran out of answers"})
        if answer is HANGUP:
            raise Hangup
        if isinstance(answer, Delay):
            await asyncio.sleep(answer.seconds)
            answer = answer.then
        result: Reply = answer
        return result


@contextmanager
def chat_script(server: ChatServer, answers: Iterable[Any] = ()) -> Iterator[Script]:
    """`server`'s chat route answering `answers` in turn (the default toy judge afterwards)."""
    script = Script(answers)
    server.routes[("POST", CHAT_PATH)] = script
    try:
        yield script
    finally:
        del server.routes[("POST", CHAT_PATH)]


def completion(content: str, total_tokens: int = 42, model: str = "mistral-small-latest") -> Any:
    """A chat completion body, as the Mistral API answers it."""
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": total_tokens},
    }


def form_field(body: bytes, name: str) -> bytes:
    """The value of one field of a multipart/form-data body (the first part named `name`)."""
    marker = f'name="{name}"'.encode()
    start = body.index(marker)
    value = body.index(b"\r\n\r\n", start) + 4
    boundary = body[: body.index(b"\r\n")]
    return body[value : body.index(b"\r\n" + boundary, value)]
