"""run_batch's places: an item backing off (`pause`) frees its place and comes back first."""

from __future__ import annotations

import asyncio

import pytest

from pytest_llmjudge import Case, Verdict
from pytest_llmjudge.calls.loop import Slots, leave_seat, pause, run_batch


def cases(n: int) -> list[Case]:
    return [
        Case(id=f"c{i}", premise=f"Document {i}.", hypothesis=f"Summary {i}.", target=1)
        for i in range(n)
    ]


class Recorder:
    """A call that logs its events; `retry` cases pause once (a backoff) before answering."""

    def __init__(self, retry: set[str], wait: float = 0.0) -> None:
        self.retry = retry
        self.wait = wait
        self.events: list[str] = []
        self.now = self.most = 0

    async def __call__(self, case: Case) -> Verdict:
        self.now += 1
        self.most = max(self.most, self.now)
        self.events.append(f"start {case.id}")
        await asyncio.sleep(self.wait)
        if case.id in self.retry:
            self.retry.discard(case.id)
            self.now -= 1
            await pause(0.01)
            self.now += 1
            self.events.append(f"back {case.id}")
        self.now -= 1
        self.events.append(f"done {case.id}")
        return Verdict(prediction=1)


def test_a_pausing_item_frees_its_place_for_the_next() -> None:
    call = Recorder(retry={"c0"}, wait=0.05)  # c1 still works when c0 is back
    asyncio.run(run_batch(cases(3), call, concurrency=1))

    # c1 ran while c0 backed off; c0 came back ahead of c2, which had not started
    assert call.events == [
        "start c0",
        "start c1",
        "done c1",
        "back c0",
        "done c0",
        "start c2",
        "done c2",
    ]
    assert call.most == 1


def test_pauses_never_lift_the_limit() -> None:
    call = Recorder(retry={f"c{i}" for i in range(0, 40, 3)}, wait=0.001)
    outcomes = asyncio.run(run_batch(cases(40), call, concurrency=4))

    assert len(outcomes) == 40 and all(v.prediction == 1 for v in outcomes.values())
    assert call.most <= 4
    assert call.events.count("start c0") == 1 and "back c0" in call.events


def test_pause_outside_a_batch_just_sleeps() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    asyncio.run(pause(0.5, fake_sleep))
    assert slept == [0.5]


def test_a_cancelled_waiter_hands_its_place_on() -> None:
    async def scenario() -> list[str]:
        slots = Slots(1)
        await slots.acquire()
        got: list[str] = []

        async def take(name: str) -> None:
            await slots.acquire()
            got.append(name)

        first = asyncio.ensure_future(take("first"))
        second = asyncio.ensure_future(take("second"))
        await asyncio.sleep(0)
        slots.release()  # handed to `first`, which is cancelled before it runs
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(second, 1)
        slots.release()
        await slots.acquire()  # the place is free again: nothing leaked
        return got

    assert asyncio.run(scenario()) == ["second"]


def test_an_item_storing_its_answer_has_left_its_place() -> None:
    events: list[str] = []

    async def call(case: Case) -> Verdict:
        events.append(f"start {case.id}")
        await asyncio.sleep(0.01)  # the request
        leave_seat()  # answered: what is left (storing it) uses no server
        await asyncio.sleep(0.05)  # the cache's commit
        events.append(f"stored {case.id}")
        return Verdict(prediction=1)

    got = asyncio.run(run_batch(cases(2), call, concurrency=1))

    # c1's request went out while c0 was being stored, and both outcomes came back
    assert events == ["start c0", "start c1", "stored c0", "stored c1"]
    assert set(got) == {"c0", "c1"}
