"""Runs a judge over a batch of cases concurrently, on an event loop of its own (no pytest)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from pytest_llmjudge.calls.protocol import Backend
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict

T = TypeVar("T")
OnVerdict = Callable[[Case, Verdict], None]


class LoopThread:
    """An asyncio loop in a daemon thread, so batches run the same inside sync or async tests."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop and wait for its result."""
        return self.submit(coro).result()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coro` on the loop; its future (cancel() cancels the coroutine)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="llmjudge-loop", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = None


async def judge_batch(
    backend: Backend,
    cases: Sequence[Case],
    concurrency: int,
    on_verdict: OnVerdict | None = None,
    judge_one: Callable[[Case], Awaitable[Verdict]] | None = None,
) -> dict[str, Verdict]:
    """Every case's verdict, with at most `concurrency` calls in flight; no case is dropped.

    `judge_one` replaces `backend.judge` (the session passes calls.CallRunner.judge, which adds
    the cache, retries and limits for backends that call a model server).
    """
    judge = judge_one or backend.judge
    semaphore = asyncio.Semaphore(max(1, concurrency))
    verdicts: dict[str, Verdict] = {}

    async def one(case: Case) -> None:
        async with semaphore:
            started = time.perf_counter()
            try:
                verdict = await judge(case)
            except Exception as exc:  # any failure becomes an unscored case with its cause
                verdict = Verdict.unscored(redact(f"{type(exc).__name__}: {exc}"))
            if not verdict.latency_s:
                verdict = verdict.model_copy(update={"latency_s": time.perf_counter() - started})
        verdicts[case.id] = verdict
        if on_verdict is not None:
            on_verdict(case, verdict)

    await asyncio.gather(*(one(case) for case in cases))
    return verdicts
