"""Progress of a judge batch: a live line on a terminal, one line per batch elsewhere (no pytest).

`BatchProgress.update` is called from the batch's `on_verdict` callback (on the runner's loop
thread) and redraws the live line at most `interval_s` apart; `close` writes the final line once:

    llmjudge: judge mistral-small on news: 100 cases in 3.2 s (31/s), 0 unscored
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_llmjudge.model.verdict import Verdict

Draw = Callable[[str], None]
DEFAULT_INTERVAL_S = 0.1  # at most 10 redraws a second


def format_rate(per_s: float) -> str:
    """A rate for people: 31/s, 4.2/s, 0.35/s."""
    if per_s >= 10:
        return f"{per_s:.0f}/s"
    if per_s >= 1:
        return f"{per_s:.1f}/s"
    return f"{per_s:.2g}/s"


def format_duration(seconds: float) -> str:
    """A duration for people: 0.4 s, 12 s, 3 min 05 s, 1 h 02 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class BatchProgress:
    """Counts a batch's verdicts and reports them through `live` (redrawn) and `final` (once).

    Attributes:
        judge: the judge's label. dataset: the dataset's label. total: cases in the batch.
        final: writes the closing line. live: redraws the live line (None: no live line).
        interval_s: the least time between two live redraws.
        clock: a monotonic clock (injectable for tests).
    """

    judge: str
    dataset: str
    total: int
    final: Draw
    live: Draw | None = None
    interval_s: float = DEFAULT_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    unscored: int = 0
    cached: int = 0
    started: float = field(default=0.0)
    _last_draw: float = field(default=float("-inf"), repr=False)
    _closed: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.started = self.clock()
        if self.live is not None:
            self.live(self.live_line())

    @property
    def elapsed(self) -> float:
        """Seconds since the batch started."""
        return max(0.0, self.clock() - self.started)

    def update(self, verdict: Verdict) -> None:
        """Count one verdict; redraw the live line when `interval_s` has passed."""
        with self._lock:
            self.done += 1
            self.unscored += verdict.prediction is None
            self.cached += bool(verdict.cached)
            now = self.clock()
            if self.live is None or now - self._last_draw < self.interval_s:
                return
            self._last_draw = now
            self.live(self.live_line())

    def live_line(self) -> str:
        """The live line: done/total, rate, unscored, ETA."""
        elapsed = self.elapsed
        parts = [f"llmjudge: judge {self.judge} on {self.dataset}: {self.done}/{self.total}"]
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            parts.append(format_rate(rate))
            parts.append(f"{self.unscored} unscored")
            if self.done < self.total:
                parts.append(f"ETA {format_duration((self.total - self.done) / rate)}")
        else:
            parts.append(f"{self.unscored} unscored")
        return ", ".join(parts)

    def final_line(self) -> str:
        """The closing line: cases, time, rate, unscored (and cached, when any were)."""
        elapsed = self.elapsed
        rate = f" ({format_rate(self.done / elapsed)})" if self.done and elapsed > 0 else ""
        noun = "case" if self.done == 1 else "cases"
        line = (
            f"llmjudge: judge {self.judge} on {self.dataset}: {self.done} {noun} in "
            f"{format_duration(elapsed)}{rate}, {self.unscored} unscored"
        )
        if self.cached:
            line += f", {self.cached} cached"
        return line

    def close(self) -> None:
        """Write the closing line (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.final(self.final_line())
