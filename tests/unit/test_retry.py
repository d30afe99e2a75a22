"""Backoff, jitter and Retry-After (pure: no sleeping, no clock)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from pytest_llmjudge.calls.retry import MAX_RETRY_AFTER_S, RetryPolicy, parse_retry_after
from pytest_llmjudge.errors import CallError


def policy(tries: int = 5) -> RetryPolicy:
    return RetryPolicy(tries=tries, base_s=0.5, max_s=8.0, rng=random.Random(1))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, None])
def test_transient_errors_are_retried_until_the_tries_run_out(status: int | None) -> None:
    error = CallError("x", status=status)
    p = policy(tries=3)
    assert [p.retryable(error, attempt) for attempt in (1, 2, 3)] == [True, True, False]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_errors_are_never_retried(status: int) -> None:
    error = CallError("x", status=status)
    assert error.permanent
    assert not policy().retryable(error, 1)


def test_only_key_model_and_server_errors_halt_a_judge() -> None:
    assert [CallError("x", status=s).halts for s in (401, 403, 404, 422, 429, 500)] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    p = policy()
    error = CallError("x", status=503)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = {p.delay(error, attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not one fixed value


def test_retry_after_is_honoured_with_a_little_jitter() -> None:
    p = policy()
    delays = [p.delay(CallError("x", status=429, retry_after=3.0), 1) for _ in range(50)]
    assert all(3.0 <= d <= 3.3 for d in delays)
    huge = p.delay(CallError("x", status=429, retry_after=10_000), 1)
    assert MAX_RETRY_AFTER_S <= huge <= MAX_RETRY_AFTER_S * 1.1


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad) is None
