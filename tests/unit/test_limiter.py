"""Adaptive concurrency (AIMD) and the requests-per-second / tokens-per-minute limiter."""

from __future__ import annotations

import asyncio

from pytest_llmjudge.calls.limiter import AdaptiveLimiter, RateLimiter


def test_a_429_halves_the_limit_once_per_window() -> None:
    limiter = AdaptiveLimiter(16)
    limiter.on_rate_limit(0)
    assert limiter.limit == 8
    for _ in range(10):  # more 429s answered to requests of the same window count once
        limiter.on_rate_limit(0)
    assert (limiter.limit, limiter.decreases) == (8, 1)
    limiter.on_rate_limit(1)  # a request issued after the decrease
    assert limiter.limit == 4
    for _ in range(10):
        limiter.on_rate_limit(limiter.epoch)
    assert limiter.limit == 1  # never below one


def test_successes_grow_the_limit_back_to_the_maximum() -> None:
    limiter = AdaptiveLimiter(8)
    limiter.on_rate_limit(0)
    assert limiter.limit == 4
    for _ in range(5):  # a window of successes adds about one slot
        limiter.on_success()
    assert int(limiter.limit) == 5
    for _ in range(1000):
        limiter.on_success()
    assert limiter.limit == 8


def test_slots_bound_the_requests_in_flight() -> None:
    limiter = AdaptiveLimiter(4)
    limiter.on_rate_limit(0)  # limit 2
    seen: list[int] = []

    async def request() -> None:
        async with limiter.slot():
            seen.append(limiter.in_flight)
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(request() for _ in range(10)))

    asyncio.run(main())
    assert len(seen) == 10 and max(seen) == 2
    assert limiter.in_flight == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_per_second_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rps=4, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(9):
            await limiter.acquire()

    asyncio.run(main())
    assert clock.now == 2.0  # 9 requests at 4 per second: the last one starts at 2 s
    assert clock.sleeps == [0.25] * 8


def test_tokens_per_minute_waits_for_the_bucket_to_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)  # 10 tokens per second

    async def main() -> None:
        await limiter.acquire(500)  # the bucket starts full: no wait
        await limiter.acquire(100)  # still fits
        await limiter.acquire(50)  # empty: 5 s for 50 tokens

    asyncio.run(main())
    assert clock.sleeps == [5.0]


def test_no_limit_never_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    asyncio.run(limiter.acquire(10**9))
    assert not limiter.active and clock.sleeps == []
