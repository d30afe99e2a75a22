"""Repeated cases: the majority verdict, ties, agreement and the run's consistency metrics."""

from __future__ import annotations

import pytest

from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.repeats import TIE, agreement, flaky, majority, repetitions
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.consistency import consistency
from pytest_llmjudge.scoring.metrics import compute_metrics

CASE = Case(id="c1", premise="A document.", hypothesis="A summary.", target=1)


def said(*labels: int | None) -> list[Verdict]:
    return [
        Verdict(prediction=p, reason=f"r{i}") if p is not None else Verdict.unscored("boom")
        for i, p in enumerate(labels)
    ]


def test_repetitions_keep_the_case_first_and_number_the_rest() -> None:
    trials = list(repetitions(CASE, 3))
    assert trials[0] is CASE  # repeat=1 asks exactly what it asked before
    assert [t.repeat for t in trials] == [0, 1, 2]
    assert [t.trial for t in trials] == ["c1", "c1#1", "c1#2"]
    assert {t.id for t in trials} == {"c1"}


def test_majority_takes_the_most_common_label_and_keeps_every_repetition() -> None:
    verdict = majority(said(1, 0, 1))
    assert verdict.prediction == 1 and verdict.reason == "r0"
    assert verdict.predictions == [1, 0, 1]
    assert agreement(verdict) == pytest.approx(2 / 3) and flaky(verdict) is True
    unanimous = majority(said(0, 0, 0))
    assert unanimous.prediction == 0 and agreement(unanimous) == 1.0 and not flaky(unanimous)


def test_an_even_split_is_a_tie_and_unscored_repetitions_do_not_vote() -> None:
    tie = majority(said(1, 0))
    assert tie.prediction is None and tie.error == TIE
    assert "1 said 0" in tie.reason and "1 said 1" in tie.reason
    assert majority(said(1, None, 0, 1)).prediction == 1
    none = majority(said(None, None))
    assert none.prediction is None and none.error == "boom"


def test_a_case_judged_once_has_no_agreement() -> None:
    once = Verdict(prediction=1)
    assert once.predictions == [1] and agreement(once) is None and flaky(once) is None


def test_consistency_counts_cases_with_two_scored_repetitions() -> None:
    found = consistency([[1, 1, 1], [1, 0, 1], [0, None, 0], [1, None, None]], 0.95)
    assert found.cases == 3  # the last has one scored repetition: it cannot disagree
    assert found.flaky == pytest.approx(1 / 3)
    assert found.self_consistency == pytest.approx((1 + 2 / 3 + 1) / 3)
    lo, hi = found.flaky_ci or (0, 0)
    assert lo < 1 / 3 < hi
    empty = consistency([[1], [0]], 0.95)
    assert (empty.cases, empty.flaky, empty.self_consistency) == (0, None, None)


def test_run_metrics_carry_flaky_and_self_consistency_or_say_why_not() -> None:
    metrics = compute_metrics([(1, 1), (0, 1)], repetitions=[[1, 1], [1, 0, 1]], repeat=3)
    assert metrics.flaky == 0.5 and metrics.repeated == 2 and metrics.repeat == 3
    assert metrics.interval("flaky") is not None
    once = compute_metrics([(1, 1), (0, 1)])
    assert once.flaky is None and "repeat=N" in (once.undefined("flaky") or "")
