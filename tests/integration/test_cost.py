"""Money: a price per model (ini llmjudge_prices), what each case and run cost in the report,
the terminal and the HTML, the estimate in dollars, and --llmjudge-max-cost, one budget for
every pytest-xdist worker."""

from __future__ import annotations

import re
import tempfile

import pytest

from pytest_llmjudge.scoring.cost import dollars

# a dollar per prompt token and two per answer token: a case's cost is readable off its tokens
PRICES = """
llmjudge_prices =
    stub-model = 1000000, 2000000
"""


def test_costs_per_case_and_run_and_per_correct_verdict(chat_project, pytester) -> None:
    chat_project.ini(PRICES)
    result = pytester.runpytest("--llmjudge-report=r.json", "--llmjudge-html=r.html")
    (run,) = chat_project.report("r.json")["runs"]
    cases = run["cases"]
    assert all(c["cost"] is not None and c["cost"] > c["tokens"] for c in cases)
    spent = sum(c["cost"] for c in cases)
    correct = sum(c["correct"] for c in cases)
    cost = run["cost"]
    assert cost["spent"] == pytest.approx(spent)
    assert cost["tokens"] == sum(c["tokens"] for c in cases)
    assert cost["per_case"] == pytest.approx(spent / 6)
    assert cost["per_correct_verdict"] == pytest.approx(spent / correct)
    estimate = next(x for x in result.outlines if x.startswith("llmjudge estimate:"))
    bound = re.search(r"<= \$([\d.e+]+)", estimate)
    assert bound is not None and float(bound.group(1)) >= spent  # max_tokens bounds each answer
    shown = dollars(spent)
    result.stdout.fnmatch_lines([f"cost: judge m on cases: {shown} spent, *per correct verdict"])
    assert "per correct verdict" in (chat_project.path / "r.html").read_text()

    rerun = pytester.runpytest("--llmjudge-report=again.json")
    again = chat_project.report("again.json")["runs"][0]["cost"]
    assert (again["spent"], again["cached"]) == (0.0, 6)  # the cache's answers are free
    rerun.stdout.fnmatch_lines(["cost: judge m on cases: $0 spent, * (6 from the cache, free)*"])


def test_an_unpriced_model_has_an_unknown_cost_not_zero(chat_project, pytester) -> None:
    pytester.runpytest("--llmjudge-report=r.json")
    cost = chat_project.report("r.json")["runs"][0]["cost"]
    assert cost["spent"] is None and cost["per_case"] is None and cost["tokens"] > 0
    refused = pytester.runpytest("--llmjudge-max-cost=1", "--llmjudge-cache=off")
    assert refused.ret == pytest.ExitCode.TESTS_FAILED
    refused.stdout.fnmatch_lines(["*model 'stub-model' has no price*llmjudge_prices*"])


@pytest.mark.parametrize("workers", ["0", "2"], ids=["serial", "xdist"])
def test_the_cost_budget_holds_across_xdist_workers(
    chat_project, pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """A request reserves its estimate (its answer at max_tokens), at least what it costs, and
    may go while the spent and reserved dollars are below the budget: all workers together
    spend less than the budget plus one request's estimate."""
    monkeypatch.setattr(tempfile, "tempdir", str(pytester.path / "tmp"))  # the ledger's folder
    (pytester.path / "tmp").mkdir()
    chat_project.ini(PRICES)
    chat_project.cases(chat_project.make_rows([1, 0] * 20))
    chat_project.server.latency = 0.005
    estimate = re.search(r"<= \$([\d.e+]+)", pytester.runpytest("--co").stdout.str())
    assert estimate is not None
    each = float(estimate.group(1)) / 40  # a request's estimate (all alike)
    args = ["-p", "xdist", "-n", workers, "--llmjudge-cache", "off", "--llmjudge-report", "r.json"]
    result = pytester.runpytest(*args, "--llmjudge-max-cost", f"{5 * each:.6f}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    if workers == "0":  # the estimate is the serial run's (xdist's workers print none)
        result.stdout.fnmatch_lines(["*the estimate ($*) exceeds the budget of $*: cases past*"])
    run = chat_project.report("r.json")["runs"][0]
    assert 0 < run["cost"]["spent"] < 6 * each  # without one ledger, each worker would spend 5
    assert sum(c["error"] is None for c in run["cases"]) == chat_project.server.count
    result.stdout.fnmatch_lines(
        ["FAILED budget: judge m on cases: cost budget of $* reached; * unscored"]
    )
    assert list((pytester.path / "tmp").iterdir()) == []
