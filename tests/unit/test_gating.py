"""Intervals on every metric, gating on the lower bound, and thresholds n cannot resolve."""

from __future__ import annotations

import math

import pytest

from pytest_llmjudge.scoring.gating import check_threshold, check_thresholds, unresolved
from pytest_llmjudge.scoring.metrics import compute_metrics
from pytest_llmjudge.scoring.thresholds import parse_threshold

Z95 = 1.959963984540054


def wilson_lower(p: float, n: int) -> float:
    """Textbook Wilson lower bound."""
    z2 = Z95 * Z95
    return (p + z2 / (2 * n) - Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)


def accuracy_pairs(correct: int, n: int) -> list[tuple[int, int]]:
    """n positive cases, the first `correct` answered right."""
    return [(1, 1)] * correct + [(1, 0)] * (n - correct)


class TestIntervals:
    def test_precision_and_recall_use_wilson_on_their_own_denominators(self) -> None:
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson):
        # 81/263 -> [0.2553, 0.3662], 15/148 -> [0.0624, 0.1605]
        recall = compute_metrics([(1, 1)] * 81 + [(1, 0)] * 182)
        assert recall.recall_ci == pytest.approx((0.2553, 0.3662), abs=6e-5)
        precision = compute_metrics([(1, 1)] * 15 + [(0, 1)] * 133)
        assert precision.precision_ci == pytest.approx((0.0624, 0.1605), abs=6e-5)
        assert precision.denominator("precision") == 148

    def test_f1_interval_is_seeded_and_brackets_the_estimate(self) -> None:
        pairs = [(1, 1)] * 30 + [(0, 1)] * 10 + [(0, 0)] * 40 + [(1, 0)] * 20
        first, second = compute_metrics(pairs), compute_metrics(list(reversed(pairs)))
        assert first.f1_ci == second.f1_ci  # reproducible and independent of case order
        lo, hi = first.f1_ci
        assert lo < first.f1 < hi
        assert first.interval("f1") == first.f1_ci

    def test_counts_and_coverage_have_no_interval(self) -> None:
        m = compute_metrics(accuracy_pairs(5, 10))
        assert m.interval("coverage") is None and m.interval("n") is None


class TestGateOn:
    def test_point_and_lower_bound(self) -> None:
        m = compute_metrics(accuracy_pairs(80, 100))
        threshold = parse_threshold("accuracy>=0.75")
        point = check_threshold(m, threshold, "point")
        assert (point.actual, point.passed, point.basis) == (0.8, True, "point")
        bound = check_threshold(m, threshold, "lower-bound")
        assert bound.basis == "lower bound"
        assert bound.actual == pytest.approx(wilson_lower(0.8, 100), rel=1e-9)  # 0.7112
        assert not bound.passed and bound.point == 0.8

    def test_upper_thresholds_use_the_upper_bound(self) -> None:
        m = compute_metrics(accuracy_pairs(10, 100))
        result = check_threshold(m, parse_threshold("accuracy<=0.15"), "lower-bound")
        assert result.basis == "upper bound"
        assert result.actual == pytest.approx(m.accuracy_ci[1])
        assert not result.passed  # upper bound ~0.174

    def test_counts_stay_on_their_value(self) -> None:
        m = compute_metrics(accuracy_pairs(8, 10))
        (result,) = check_thresholds(m, (parse_threshold("n>=10"),), "x", "lower-bound")
        assert (result.actual, result.passed, result.basis) == (10.0, True, "point")

    def test_judge_scoped_thresholds(self) -> None:
        m = compute_metrics(accuracy_pairs(8, 10))
        found = check_thresholds(m, (parse_threshold("other:f1>=0.1"),), "mine", "point")
        assert found == ()


class TestUnresolved:
    def test_96_percent_on_100_cases_cannot_show_95(self) -> None:
        m = compute_metrics(accuracy_pairs(96, 100))
        found = unresolved(m, parse_threshold("accuracy>=0.95"))
        assert found is not None
        assert found.needed is not None
        # the Wilson lower bound of 0.96 first reaches 0.95 at `needed` cases
        assert wilson_lower(0.96, found.needed) >= 0.95 > wilson_lower(0.96, found.needed - 1)
        assert 1000 < found.needed < 3000
        message = found.message()
        assert message.startswith("100 cases cannot show accuracy >= 0.95")
        assert f"about {found.needed} cases" in message

    def test_resolved_or_failing_thresholds_do_not_warn(self) -> None:
        m = compute_metrics(accuracy_pairs(96, 100))
        assert unresolved(m, parse_threshold("accuracy>=0.85")) is None  # lower bound 0.90
        assert unresolved(m, parse_threshold("accuracy>=0.97")) is None  # fails on the point

    def test_recall_needs_are_scaled_to_all_cases(self) -> None:
        # 50 positives (48 found) among 100 cases: recall 0.96 on 50 positives
        pairs = [(1, 1)] * 48 + [(1, 0)] * 2 + [(0, 0)] * 50
        m = compute_metrics(pairs)
        found = unresolved(m, parse_threshold("recall>=0.9"))
        assert found is not None and found.needed is not None
        positives_needed = found.needed / 2  # half the cases are positive
        assert wilson_lower(0.96, math.ceil(positives_needed)) >= 0.9
        assert wilson_lower(0.96, math.floor(positives_needed) - 1) < 0.9

    def test_f1_cases_come_from_its_jaccard_index(self) -> None:
        # tp=20, fp=2, fn=3: J = TP / (TP + FP + FN) = 20/25 = 0.8 from 25 of the 40 cases;
        # F1 >= 0.85 is J >= 0.85 / 1.15, since F1 = 2J / (1 + J)
        pairs = [(1, 1)] * 20 + [(1, 0)] * 3 + [(0, 1)] * 2 + [(0, 0)] * 15
        m = compute_metrics(pairs)
        found = unresolved(m, parse_threshold("f1>=0.85"))
        assert found is not None and found.needed is not None and found.needed > m.n
        j_needed = found.needed * 25 / 40
        assert wilson_lower(0.8, math.ceil(j_needed)) >= 0.85 / 1.15
        assert wilson_lower(0.8, math.floor(j_needed) - 1) < 0.85 / 1.15
