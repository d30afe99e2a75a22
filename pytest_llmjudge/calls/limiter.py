"""Limits shared by every request of a run: adaptive concurrency and a request/token rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class AdaptiveLimiter:
    """A semaphore whose size follows the server (AIMD): halved on a 429, grown on success.

    A 429 halves the limit once per window: only a request issued since the last decrease can
    decrease it again, so a burst of 429s answered to one wave of requests counts once. Each
    success adds 1/limit, so the limit grows by about one per window of successes.
    """

    def __init__(self, limit: int, minimum: int = 1) -> None:
        self.maximum = max(1, limit)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = float(self.maximum)
        self.in_flight = 0
        self.epoch = 0
        self.decreases = 0
        self._condition: asyncio.Condition | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one slot while a request is in flight; yields the epoch it was issued in."""
        if self._condition is None:
            self._condition = asyncio.Condition()
        async with self._condition:
            await self._condition.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
        try:
            yield self.epoch
        finally:
            async with self._condition:
                self.in_flight -= 1
                self._condition.notify_all()

    def on_rate_limit(self, epoch: int) -> None:
        """A 429 to a request issued in `epoch`: halve the limit, once per window."""
        if epoch != self.epoch:
            return
        self.limit = max(float(self.minimum), float(int(self.limit) // 2))
        self.epoch += 1
        self.decreases += 1

    def on_success(self) -> None:
        """A successful request: grow the limit by 1/limit, up to the configured maximum."""
        self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))


class RateLimiter:
    """Requests per second and estimated tokens per minute, as token buckets shared by a run."""

    def __init__(
        self,
        rps: float | None = None,
        tpm: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rps = rps
        self.tpm = tpm
        self._clock = clock
        self._sleep = sleep
        self._next_request: float | None = None
        self._tokens = float(tpm) if tpm else 0.0
        self._tokens_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self.waited_s = 0.0

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return bool(self.rps or self.tpm)

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one more request of about `tokens` tokens fits both limits."""
        if not self.active:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one waiter at a time keeps the order fair
            wait = self._reserve(tokens)
            if wait > 0:
                self.waited_s += wait
                await self._sleep(wait)

    def _reserve(self, tokens: int) -> float:
        now = self._clock()
        wait = 0.0
        if self.rps:
            start = now if self._next_request is None else max(now, self._next_request)
            wait = start - now
            self._next_request = start + 1.0 / self.rps
        if self.tpm:
            rate = self.tpm / 60.0
            if self._tokens_at is not None:
                self._tokens = min(self.tpm, self._tokens + (now - self._tokens_at) * rate)
            self._tokens_at = now
            need = min(float(tokens), self.tpm)  # a request over a minute's worth waits 1 min
            if self._tokens < need:
                wait = max(wait, (need - self._tokens) / rate)
            self._tokens -= need  # may go negative: later requests wait for the refill
        return wait
