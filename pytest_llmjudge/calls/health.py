"""A dead or hanging server is recognised, so that its remaining requests are not sent.

A request that fails without an HTTP answer (a refused or reset connection, a timeout) says
little alone: a server may drop a few. But `DOWN_AFTER` of them in a row to one server, with no
answer of any kind between them and one of them a retry, mean that the server is down or
hangs: its judges then stop as after a 401 (calls.reliable's halts), and their remaining cases
are unscored at once with the cause, instead of each waiting out its tries and timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_llmjudge.errors import CallError

DOWN_AFTER = 5


def no_answer(error: CallError) -> bool:
    """Whether `error` is a request that got no HTTP answer (a connection error, a timeout)."""
    return error.status is None and not error.permanent


@dataclass
class _Streak:
    failures: int = 0
    retried: bool = False


class ServerHealth:
    """Counts each server's requests in a row that got no answer."""

    def __init__(self, down_after: int = DOWN_AFTER) -> None:
        self.down_after = down_after
        self._streaks: dict[str, _Streak] = {}

    def answered(self, server: str) -> None:
        """A request to `server` got an answer (any status): the server is up."""
        self._streaks.pop(server, None)

    def failed(self, server: str, error: CallError, attempt: int) -> CallError | None:
        """Record a failed request (try number `attempt` of its case); the cause to stop the
        server's requests with when it is now recognised as down, else None."""
        if not no_answer(error):
            self.answered(server)
            return None
        streak = self._streaks.setdefault(server, _Streak())
        streak.failures += 1
        streak.retried = streak.retried or attempt > 1
        if streak.failures < self.down_after or not streak.retried:
            return None
        return CallError(
            f"{streak.failures} connection failures or timeouts in a row "
            f"(the last: {error.message})",
            permanent=True,
        )
