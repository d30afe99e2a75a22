"""ServerHealth: a server is down after DOWN_AFTER requests in a row without an answer."""

from __future__ import annotations

from pytest_llmjudge.calls.health import DOWN_AFTER, ServerHealth
from pytest_llmjudge.errors import CallError

REFUSED = CallError("request failed: ClientConnectorError: Cannot connect to host")
TIMEOUT = CallError("request timed out after 60s")


def test_down_after_failures_in_a_row_one_of_them_a_retry() -> None:
    health = ServerHealth()
    for _ in range(DOWN_AFTER + 3):  # a first wave of failures, none of them a retry
        assert health.failed("s", TIMEOUT, attempt=1) is None
    down = health.failed("s", REFUSED, attempt=2)
    assert down is not None and down.permanent and down.status is None
    assert down.message == (
        f"{DOWN_AFTER + 4} connection failures or timeouts in a row (the last: {REFUSED.message})"
    )


def test_any_answer_between_them_starts_the_count_again() -> None:
    health = ServerHealth()
    for answer in (None, CallError("HTTP 503: busy", 503), CallError("bad", 400)):
        for _ in range(DOWN_AFTER - 1):
            assert health.failed("s", REFUSED, attempt=2) is None
        if answer is None:
            health.answered("s")
        else:
            assert health.failed("s", answer, attempt=2) is None
    assert health.failed("other", REFUSED, attempt=2) is None  # each server its own count
