"""What every batch of a session uses, whichever its run's kind: the settings, the loop thread,
the model calls' shared state, the streams in flight and the hooks the caller installs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pytest_llmjudge.calls.loop import Call, LoopThread, OnOutcome, run_batch
from pytest_llmjudge.calls.protocol import Backend, is_model_backend, unavailable
from pytest_llmjudge.calls.reliable import CallContext, CallRunner
from pytest_llmjudge.evaluation.streaming import Streams
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings

T = TypeVar("T")


class Progress(Protocol):
    """A batch's progress display (outputs.progress.BatchProgress is the plugin's)."""

    live: Callable[[str], None] | None  # None: no live line, only a final one

    def update(self, verdict: Verdict) -> None: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[str, str, int], Progress | None]


@dataclass
class Services:
    """A session's shared machinery.

    Attributes:
        progress: starts a batch's progress display (label, dataset, size); the plugin sets it.
        status_line: writes a Batch API job's progress lines; the plugin sets it.
        scheduled: on a pytest-xdist worker, the ids of a run's cases queued on this worker
            (None when the queue cannot be read), so that a worker batches only what it runs.
    """

    settings: Settings
    loop: LoopThread = field(default_factory=LoopThread)
    calls: CallContext = field(init=False)
    streams: Streams = field(init=False)
    progress: ProgressFactory | None = None
    status_line: Callable[[str], None] | None = None
    scheduled: Callable[[Any], set[str] | None] | None = None

    def __post_init__(self) -> None:
        self.calls = CallContext(self.settings)  # cache, budget and rate limits of model calls
        self.streams = Streams(self.loop)

    def unavailable(self, backend: Backend | Any) -> str | None:
        """Why `backend` cannot run here (replay needs no key), or None."""
        return unavailable(backend, self.calls.mode)

    def runner(self, backend: Any, label: str) -> CallRunner | None:
        """The reliable-call runner of a model backend (None for an in-process one)."""
        return CallRunner(backend, self.calls, label) if is_model_backend(backend) else None

    def queued(self, key: Any, ids: Iterable[str], item_id: str) -> list[str]:
        """Of `ids`, those to batch now with `item_id`: all of them, or on a pytest-xdist worker
        only those queued on it (only `item_id` when its queue cannot be read)."""
        ids = list(ids)
        if self.scheduled is None:
            return ids
        mine = self.scheduled(key) or set()
        picked = [i for i in ids if i in mine]
        return picked if item_id in picked else [*picked, item_id]

    def batch(
        self,
        backend: Any,
        items: Sequence[T],
        call: Call[T],
        on_outcome: OnOutcome[T] | None = None,
    ) -> dict[str, Verdict]:
        """Run one batch to its end on the loop (the backend closed after it)."""

        async def whole() -> dict[str, Verdict]:
            try:
                return await run_batch(items, call, self.settings.concurrency, on_outcome)
            finally:
                await backend.aclose()

        return self.loop.run(whole())

    def close(self) -> None:
        """Stop the loop (after the batches in flight) and close the cache."""
        self.streams.settle()
        self.loop.close()
        self.calls.close()
