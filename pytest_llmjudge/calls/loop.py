"""Batches of model calls run concurrently, on an event loop thread of their own (no pytest)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from pytest_llmjudge.calls.protocol import Backend
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict

T = TypeVar("T")


class HasId(Protocol):
    """An item of a batch: a case, or a generator's job."""

    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=HasId)
Call = Callable[[Item], Awaitable[Verdict]]  # one item's outcome
OnOutcome = Callable[[Item, Verdict], None]  # called as each outcome arrives


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


async def run_batch(
    items: Sequence[Item],
    call: Call[Item],
    concurrency: int,
    on_outcome: OnOutcome[Item] | None = None,
) -> dict[str, Verdict]:
    """Every item's outcome (a judge's verdict, or a generator's answer carried as one), with at
    most `concurrency` calls in flight; no item is dropped: a failure is unscored with its cause.
    """
    semaphore = asyncio.Semaphore(max(1, concurrency))
    outcomes: dict[str, Verdict] = {}

    async def one(item: Item) -> None:
        async with semaphore:
            started = time.perf_counter()
            try:
                outcome = await call(item)
            except Exception as exc:  # any failure becomes an unscored outcome with its cause
                outcome = Verdict.unscored(redact(f"{type(exc).__name__}: {exc}"))
            if not outcome.latency_s:
                outcome = outcome.model_copy(update={"latency_s": time.perf_counter() - started})
        outcomes[item.id] = outcome
        if on_outcome is not None:
            on_outcome(item, outcome)

    await asyncio.gather(*(one(item) for item in items))
    return outcomes


async def judge_batch(
    backend: Backend,
    cases: Sequence[Case],
    concurrency: int,
    on_verdict: OnOutcome[Case] | None = None,
    judge_one: Call[Case] | None = None,
) -> dict[str, Verdict]:
    """Every case's verdict from `judge_one` (default `backend.judge`); see run_batch."""
    return await run_batch(cases, judge_one or backend.judge, concurrency, on_verdict)
