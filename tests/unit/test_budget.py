"""The request and token budget."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pytest_llmjudge.calls.budget import (
    Budget,
    budget_cause,
    create_ledger,
    estimate_tokens,
    is_budget_cause,
)


def test_estimate_is_prompt_chars_over_four_plus_max_tokens() -> None:
    identity = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 256}
    assert estimate_tokens(identity) == 100 + 256
    assert estimate_tokens({}) == 0


def test_request_budget_refuses_after_n_requests() -> None:
    budget = Budget(max_requests=2)
    assert budget.reserve(10) is None
    assert budget.reserve(10) is None
    assert budget.reserve(10) == "request budget of 2 reached"
    assert budget.requests == 2 and budget.exhausted
    assert is_budget_cause(budget.reserve(10))


def test_token_budget_counts_in_flight_estimates_then_real_tokens() -> None:
    budget = Budget(max_tokens=100)
    assert budget.reserve(60) is None
    assert budget.reserve(60) is None  # 60 reserved < 100: may go
    assert budget.reserve(1) == "token budget of 100 reached"  # 120 reserved
    budget.settle(60, 20)
    budget.settle(60, None)  # a failed request: no tokens known
    assert budget.tokens == 20
    assert budget.reserve(60) is None
    budget.settle(60, 90)
    assert budget.reserve(1) == "token budget of 100 reached"


def test_no_budget_never_refuses() -> None:
    budget = Budget()
    assert all(budget.reserve(10**6) is None for _ in range(1000))
    assert not budget.exhausted
    assert not is_budget_cause(None) and not is_budget_cause("HTTP 500: budget of the server")


def test_the_cause_of_a_budget_is_found_where_it_is_quoted() -> None:
    assert budget_cause("request budget of 6 reached") == "request budget of 6 reached"
    assert budget_cause("no answer to judge: token budget of 9 reached") == (
        "token budget of 9 reached"
    )
    assert budget_cause("HTTP 500: the budget of the server was reached") is None
    assert budget_cause(None) is None


def test_budgets_on_one_ledger_file_share_their_limits(tmp_path: Path) -> None:
    create_ledger(tmp_path / "ledger.sqlite3")
    one, two = (Budget(3, 100, ledger=tmp_path / "ledger.sqlite3") for _ in range(2))
    assert one.reserve(40) is None and two.reserve(40) is None
    assert one.reserve(40) is None  # 120 tokens reserved, 3 requests: both limits reached
    assert two.reserve(1) == "request budget of 3 reached"
    one.settle(40, 10)
    assert two.requests == 3 and two.tokens == 10
    assert not one.exhausted and two.exhausted  # each counts its own refusals
    one.close()
    two.close()


def _take(path: str, tries: int) -> int:
    """In a process of its own: reserve `tries` requests on the ledger; how many were granted."""
    budget = Budget(max_requests=50, ledger=Path(path))
    granted = 0
    for _ in range(tries):
        if budget.reserve(1) is None:
            granted += 1
            budget.settle(1, 1)
    budget.close()
    return granted


def test_processes_on_one_ledger_get_exactly_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    create_ledger(path)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=spawn) as pool:
        granted = list(pool.map(_take, [str(path)] * 4, [40] * 4))
    assert sum(granted) == 50  # 160 tries for 50 requests
    assert Budget(max_requests=50, ledger=path).requests == 50


def test_a_ledger_without_a_budget_is_not_opened(tmp_path: Path) -> None:
    budget = Budget(ledger=tmp_path / "missing.sqlite3")  # no limit: counted in memory
    assert budget.reserve(10) is None and budget.requests == 1
    assert not (tmp_path / "missing.sqlite3").exists()
