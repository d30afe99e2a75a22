"""When to retry a failed model call and how long to wait: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pytest_llmjudge.errors import CallError

MAX_RETRY_AFTER_S = 300.0


@dataclass
class RetryPolicy:
    """Tries per request and the backoff between them.

    Attributes:
        tries: attempts per request in all (1 = no retry).
        base_s: the first backoff; it doubles on every retry.
        max_s: the longest backoff (a server's Retry-After may ask for more, up to 5 minutes).
        rng: the jitter's random source.
    """

    tries: int = 5
    base_s: float = 0.5
    max_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def retryable(self, error: CallError, attempt: int) -> bool:
        """Whether to try again after `error` on try number `attempt` (from 1)."""
        return not error.permanent and attempt < self.tries

    def delay(self, error: CallError, attempt: int) -> float:
        """Seconds to wait before the next try: Retry-After when given, else backoff."""
        if error.retry_after is not None:
            # honour the server, plus up to 10% so that the waiting requests do not return at once
            wait = min(error.retry_after, MAX_RETRY_AFTER_S)
            return wait * (1.0 + 0.1 * self.rng.random())
        ceiling = min(self.max_s, self.base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)  # "equal jitter"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date; None if unusable."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN is unusable
