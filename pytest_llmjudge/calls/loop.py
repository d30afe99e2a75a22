"""Batches of model calls run concurrently, on an event loop thread of their own (no pytest)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextvars import ContextVar
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


class Slots:
    """A batch's `size` places: at most that many items at work at once. An item that waits
    (a retry's backoff, `pause`) gives its place up and, when it goes on, takes the next free
    one ahead of the items that have not started, so that a retried case is not sent last."""

    def __init__(self, size: int) -> None:
        self._free = max(1, size)
        self._new: deque[asyncio.Future[None]] = deque()  # items that have not started
        self._back: deque[asyncio.Future[None]] = deque()  # items back from a pause

    async def acquire(self, back: bool = False) -> None:
        """Wait for a place (ahead of the new items when `back`)."""
        if self._free > 0:  # a free place means nobody waits: release() hands places on
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        (self._back if back else self._new).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a place while cancelled
                self.release()
            raise

    def release(self) -> None:
        """Give a place back: to the first waiter back from a pause, else the first new one."""
        for queue in (self._back, self._new):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


class _Seat:
    """Whether the item of this task holds its place among the batch's `Slots`."""

    __slots__ = ("held", "slots")

    def __init__(self, slots: Slots) -> None:
        self.slots = slots
        self.held = False


_SEAT: ContextVar[_Seat | None] = ContextVar("llmjudge_batch_seat", default=None)


async def pause(seconds: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Wait `seconds` without holding the batch's place: the batch's other items go on meanwhile
    (a retry's backoff would otherwise idle one of its `concurrency` places)."""
    seat = _SEAT.get()
    if seat is None or not seat.held:
        await sleep(seconds)
        return
    seat.held = False
    seat.slots.release()
    await sleep(seconds)
    await seat.slots.acquire(back=True)
    seat.held = True


def leave_seat() -> None:
    """Give up this task's place in its batch for the rest of its call: what is left of it
    uses no server (storing its answer waits for a commit on the cache's writer thread)."""
    seat = _SEAT.get()
    if seat is not None and seat.held:
        seat.held = False
        seat.slots.release()


async def run_batch(
    items: Sequence[Item],
    call: Call[Item],
    concurrency: int,
    on_outcome: OnOutcome[Item] | None = None,
) -> dict[str, Verdict]:
    """Every item's outcome (a judge's verdict, or a generator's answer carried as one), with at
    most `concurrency` items at work (an item waiting in `pause` is not); no item is dropped: a
    failure is unscored with its cause.
    """
    slots = Slots(concurrency)
    outcomes: dict[str, Verdict] = {}

    async def one(item: Item) -> None:
        seat = _Seat(slots)
        _SEAT.set(seat)  # this item's task only: gather runs each in a task of its own
        await slots.acquire()
        seat.held = True
        try:
            started = time.perf_counter()
            try:
                outcome = await call(item)
            except Exception as exc:  # any failure becomes an unscored outcome with its cause
                outcome = Verdict.unscored(redact(f"{type(exc).__name__}: {exc}"))
            if not outcome.latency_s:
                outcome = outcome.model_copy(update={"latency_s": time.perf_counter() - started})
        finally:
            if seat.held:
                seat.held = False
                slots.release()
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
