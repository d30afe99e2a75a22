"""The request and token budget."""

from __future__ import annotations

from pytest_llmjudge.calls.budget import Budget, estimate_tokens, is_budget_cause


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
