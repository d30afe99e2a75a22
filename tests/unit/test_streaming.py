"""Streams: an item waits for its case's outcome, then lingers while more of its batch arrive,
and never past the batch's end."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from pytest_llmjudge.calls.loop import LoopThread
from pytest_llmjudge.evaluation import streaming
from pytest_llmjudge.evaluation.streaming import Streams


def start(
    streams: Streams, outcomes: dict[str, int], gaps: list[float], finished: list[str]
) -> None:
    """A batch of cases c0, c1, ... that arrive `gaps` seconds apart."""

    async def batch(arrived: Callable[[str], None]) -> None:
        for i, gap in enumerate(gaps):
            await asyncio.sleep(gap)
            outcomes[f"c{i}"] = i
            arrived(f"c{i}")

    streams.start("run", [f"c{i}" for i in range(len(gaps))], batch, lambda: finished.append("x"))


def wait_for(streams: Streams, outcomes: dict[str, int], case_id: str) -> None:
    flight = streams.find("run", case_id)
    assert flight is not None
    streams.wait("run", case_id, flight, lambda: case_id in outcomes)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def test_a_lingering_item_finds_the_next_outcomes_arrived(
    loop: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "LINGER_S", 30.0)  # longer than the batch: it ends the linger
    streams, outcomes, finished = Streams(loop), {}, []
    start(streams, outcomes, [0.05, 0.05, 0.05], finished)

    waiter = threading.Thread(target=wait_for, args=(streams, outcomes, "c0"))
    waiter.start()
    waiter.join(10)

    assert not waiter.is_alive()  # the batch's end woke the lingering item
    assert outcomes == {"c0": 0, "c1": 1, "c2": 2}  # what arrived while it lingered
    assert finished == ["x"]  # and the ended batch was landed


def test_an_item_whose_outcome_is_there_does_not_linger(
    loop: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "LINGER_S", 30.0)
    streams, outcomes, finished = Streams(loop), {}, []
    start(streams, outcomes, [0.0, 30.0], finished)  # c1 comes only after the test
    while "c0" not in outcomes:
        threading.Event().wait(0.01)

    waiter = threading.Thread(target=wait_for, args=(streams, outcomes, "c0"))
    waiter.start()
    waiter.join(10)

    assert not waiter.is_alive()  # c0 was there: no linger, though c1 is still to come
    assert "c1" not in outcomes and finished == []
    streams.cancel()
    assert finished == ["x"]
