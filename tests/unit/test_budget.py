"""The request, token and cost budget."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from pytest_llmjudge.calls.budget import (
    Budget,
    Estimate,
    budget_cause,
    create_ledger,
    estimate_tokens,
    is_budget_cause,
)
from pytest_llmjudge.calls.prices import Price, parse_prices, price_of
from pytest_llmjudge.calls.protocol import ModelResponse


def est(tokens: int, micro: int = 0) -> Estimate:
    return Estimate(tokens, micro, Price(1.0, 1.0), model="m")


def answer(tokens: int | None) -> ModelResponse:
    return ModelResponse("{}", tokens)


def test_estimate_is_prompt_chars_over_four_plus_max_tokens() -> None:
    identity = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 256}
    assert estimate_tokens(identity) == 100 + 256
    assert estimate_tokens({}) == 0


def test_request_budget_refuses_after_n_requests() -> None:
    budget = Budget(max_requests=2)
    assert budget.reserve(est(10)) is None
    assert budget.reserve(est(10)) is None
    assert budget.reserve(est(10)) == "request budget of 2 reached"
    assert budget.requests == 2 and budget.exhausted
    assert is_budget_cause(budget.reserve(est(10)))


def test_token_budget_counts_in_flight_estimates_then_real_tokens() -> None:
    budget = Budget(max_tokens=100)
    assert budget.reserve(est(60)) is None
    assert budget.reserve(est(60)) is None  # 60 reserved < 100: may go
    assert budget.reserve(est(1)) == "token budget of 100 reached"  # 120 reserved
    budget.settle(est(60), answer(20))
    budget.settle(est(60), None)  # a failed request: no tokens known
    assert budget.tokens == 20
    assert budget.reserve(est(60)) is None
    budget.settle(est(60), answer(90))
    assert budget.reserve(est(1)) == "token budget of 100 reached"


def test_no_budget_never_refuses() -> None:
    budget = Budget()
    assert all(budget.reserve(est(10**6)) is None for _ in range(1000))
    assert not budget.exhausted
    assert not is_budget_cause(None) and not is_budget_cause("HTTP 500: budget of the server")


def test_the_cause_of_a_budget_is_found_where_it_is_quoted() -> None:
    assert budget_cause("request budget of 6 reached") == "request budget of 6 reached"
    assert budget_cause("no answer to judge: token budget of 9 reached") == (
        "token budget of 9 reached"
    )
    assert budget_cause("cost budget of $0.5 reached") == "cost budget of $0.5 reached"
    assert budget_cause("HTTP 500: the budget of the server was reached") is None
    assert budget_cause(None) is None


def test_prices_per_model_fine_tunes_and_the_batch_discount() -> None:
    prices = parse_prices(["my-model = 1.5, 3", ""])
    assert prices["my-model"] == Price(1.5, 3.0) and "open-mistral-7b" in prices
    assert price_of("ft:open-mistral-7b:abc:2026", prices) == prices["open-mistral-7b"]
    assert price_of("gpt-x", prices) is None
    assert Price(2.0, 6.0).cost(1_000_000, 500_000) == pytest.approx(5.0)
    assert Price(2.0, 6.0).cost(1_000_000, 500_000, batch=True) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="expected 'model = input, output'"):
        parse_prices(["my-model: 1.5"])


def test_a_cost_budget_reserves_the_estimate_then_counts_what_answers_cost() -> None:
    budget = Budget(max_cost=0.01, prices={"m": Price(10.0, 20.0)})  # $ per million tokens
    identity = {"model": "m", "messages": [{"content": "x" * 400}], "max_tokens": 100}
    estimate = budget.estimate(identity)
    assert (estimate.tokens, estimate.micro) == (200, 3000)  # 100 * $10 + 100 * $20 per 1e6
    assert budget.estimate(identity, batch=True).micro == 1500
    for _ in range(4):  # the fourth: 9000 micro-dollars reserved < 10000, so it may go
        assert budget.reserve(estimate) is None
    assert budget.reserve(estimate) == "cost budget of $0.01 reached"  # 12000 reserved
    billed = ModelResponse("{}", 130, prompt_tokens=100, completion_tokens=30)
    assert budget.settle(estimate, billed) == pytest.approx(0.0016)
    assert budget.settle(estimate, None) is None  # no answer: nothing billed
    assert budget.settle(estimate, None) is None
    assert budget.settle(estimate, answer(130)) is None  # no split: unknown, counted estimated
    assert budget.spent == pytest.approx(0.0016 + 0.003)
    assert budget.reserve(estimate) is None  # 4600 micro-dollars spent, nothing reserved


def test_a_cost_budget_refuses_a_model_without_a_price() -> None:
    budget = Budget(max_cost=1.0, prices={})
    refusal = budget.reserve(budget.estimate({"model": "secret-model"}))
    assert refusal is not None and "'secret-model' has no price" in refusal
    assert "llmjudge_prices" in refusal


def test_budgets_on_one_ledger_file_share_their_limits(tmp_path: Path) -> None:
    create_ledger(tmp_path / "ledger.sqlite3")
    one, two = (Budget(3, 100, ledger=tmp_path / "ledger.sqlite3", max_cost=1.0) for _ in range(2))
    assert one.reserve(est(40, 10)) is None and two.reserve(est(40, 10)) is None
    assert one.reserve(est(40, 10)) is None  # 120 tokens reserved, 3 requests: both reached
    assert two.reserve(est(1)) == "request budget of 3 reached"
    one.settle(Estimate(40, 10, Price(1.0, 1.0)), ModelResponse("{}", 10, 4, 6))
    assert two.requests == 3 and two.tokens == 10 and two.spent == pytest.approx(1e-5)
    assert not one.exhausted and two.exhausted  # each counts its own refusals
    one.close()
    two.close()


def _take(path: str, tries: int) -> int:
    """In a process of its own: reserve `tries` requests of a micro-dollar each on the ledger of
    a budget of $0.00005; how many were granted."""
    budget = Budget(max_cost=0.00005, ledger=Path(path))
    granted = 0
    for _ in range(tries):
        if budget.reserve(Estimate(1, 1, Price(1.0, 0.0), model="m")) is None:
            granted += 1
            budget.settle(Estimate(1, 1, Price(1.0, 0.0)), ModelResponse("{}", 1, 1, 0))
    budget.close()
    return granted


def test_processes_on_one_ledger_get_exactly_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    create_ledger(path)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=spawn) as pool:
        granted = list(pool.map(_take, [str(path)] * 4, [40] * 4))
    assert sum(granted) == 50  # 160 tries for $0.00005 at a micro-dollar each
    assert Budget(max_requests=50, ledger=path).requests == 50


def test_a_ledger_without_a_budget_is_not_opened(tmp_path: Path) -> None:
    budget = Budget(ledger=tmp_path / "missing.sqlite3")  # no limit: counted in memory
    assert budget.reserve(est(10)) is None and budget.requests == 1
    assert not (tmp_path / "missing.sqlite3").exists()
