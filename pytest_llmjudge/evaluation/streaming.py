"""Batches on the loop thread whose outcomes stream to the items as they arrive.

A batch submitted with `Streams.start` returns at once; the item that needs one case's outcome
waits for that outcome (or its batch's end), then lingers a moment while more arrive (LINGER_S):
an arrival wakes the main thread only when it is the awaited one or the batch's last. Used for
judge batches of model backends of both run kinds.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_llmjudge.calls.loop import LoopThread

STOP_WAIT_S = 5.0  # how long a stopped batch may take to end on the loop
# An item that had to wait for its outcome goes on waiting this long (or until its batch ends),
# so that the next items find theirs arrived: the main thread then takes items in runs and the
# loop answers in runs, not one thread switch a case (each costs both threads their warm
# caches; bench/scale.py: ~0.5 ms of CPU a case at 32 in flight). Short against a model call.
LINGER_S = 0.05


@dataclass
class Flight:
    """A batch still on the loop while items already take the outcomes it has given.

    Attributes:
        future: the batch's future on the session's loop.
        ids: the ids in the batch.
        finish: closes the batch's progress and adds its notes (once, on the main thread).
        left: ids of the batch still without an outcome.
        state, ended, lock: whether it runs on the loop yet, and when it has ended there, so
            that `stop` waits for a cancelled batch's last answers before it is landed.
    """

    future: concurrent.futures.Future[Any]
    ids: set[str]
    finish: Callable[[], None]
    left: int = 0
    state: str = "pending"  # "running" once it runs on the loop; "stopped" if stopped before
    ended: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self) -> None:
        """Cancel the batch and wait (a few seconds at most) until it has really stopped on
        the loop: answers that arrive meanwhile are stored and counted before it is landed."""
        with self.lock:
            running = self.state == "running"
            if self.state == "pending":
                self.state = "stopped"
        self.future.cancel()
        if running:
            self.ended.wait(STOP_WAIT_S)


class Streams:
    """The batches in flight of a session, by run key."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop
        self._flights: dict[Any, list[Flight]] = {}
        self._arrived = threading.Condition()
        self._awaited: tuple[Any, str] | None = None  # the (run, id) an item waits for

    def find(self, key: Any, item_id: str) -> Flight | None:
        """The run's batch in flight that holds `item_id`, if any."""
        for flight in self._flights.get(key, ()):
            if item_id in flight.ids:
                return flight
        return None

    def start(
        self,
        key: Any,
        ids: Iterable[str],
        batch: Callable[[Callable[[str], None]], Coroutine[Any, Any, Any]],
        finish: Callable[[], None],
    ) -> None:
        """Submit `batch(arrived)`; it calls `arrived(id)` after storing each outcome."""
        ids = set(ids)
        box: list[Flight] = []

        def arrived(item_id: str) -> None:
            with self._arrived:
                flight = box[0] if box else None
                if flight is not None:
                    flight.left -= 1
                    if self._awaited == (key, item_id) or flight.left <= 0:
                        self._arrived.notify_all()

        async def tracked() -> Any:
            with self._arrived:  # held by start() until the flight exists
                flight = box[0]
            with flight.lock:
                if flight.state == "stopped":  # stopped before it ran
                    return None
                flight.state = "running"
            try:
                return await batch(arrived)
            finally:
                flight.ended.set()

        with self._arrived:  # `arrived` and `tracked` see the flight once it exists
            flight = Flight(self._loop.submit(tracked()), ids, finish, left=len(ids))
            box.append(flight)
        flight.future.add_done_callback(self._notify)  # a batch that failed or was cancelled
        self._flights.setdefault(key, []).append(flight)

    def wait(self, key: Any, item_id: str, flight: Flight, done: Callable[[], bool]) -> None:
        """Wait until `done()` or the batch ends; an item that had to wait lingers (LINGER_S)
        unless its batch has ended. Cancel every batch on Ctrl-C."""
        try:
            with self._arrived:
                self._awaited = (key, item_id)
                try:
                    waited = False
                    while not done() and not flight.future.done():
                        waited = True
                        self._arrived.wait(0.5)
                    if waited and flight.left > 0 and not flight.future.done():
                        self._arrived.wait(LINGER_S)  # more of the batch arrive meanwhile
                finally:
                    self._awaited = None
        except BaseException:
            self.cancel()
            raise
        if flight.future.done() or flight.left <= 0:
            concurrent.futures.wait([flight.future])  # at most closing the client is left
            self._land(key, flight)

    def _notify(self, _: object = None) -> None:
        with self._arrived:
            self._arrived.notify_all()

    def _land(self, key: Any, flight: Flight) -> None:
        """A finished (or cancelled) batch: its progress line, its notes, its error."""
        flights = self._flights.get(key, [])
        if flight not in flights:
            return
        flights.remove(flight)
        try:
            if not flight.future.cancelled():
                flight.future.result()
        finally:
            flight.finish()

    def cancel(self) -> None:
        """Cancel the batches in flight (an interrupted session); their outcomes so far stay."""
        for flights in self._flights.values():
            for flight in flights:
                flight.stop()
        self.settle()

    def settle(self, key: Any = None) -> None:
        """Wait for the batches in flight (of one run, or all) and finish them."""
        for run_key in [key] if key is not None else list(self._flights):
            for flight in list(self._flights.get(run_key, ())):
                concurrent.futures.wait([flight.future])
                self._land(run_key, flight)
