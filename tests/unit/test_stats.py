"""Tests for pytest_llmjudge.stats; expected values are derived independently in each test."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from pytest_llmjudge.stats import (
    cases_needed,
    f1_bootstrap_interval,
    f1_score,
    mcnemar_exact,
    wilson_interval,
    wilson_interval_proportion,
)

Z95 = 1.959963984540054  # standard normal 97.5th percentile
Z99 = 2.5758293035489004  # standard normal 99.5th percentile


def binom_half_cdf(n: int, m: int) -> Fraction:
    """Reference P(X <= m), X ~ Binomial(n, 1/2), as an exact fraction written out term by term."""
    return Fraction(sum(math.comb(n, k) for k in range(m + 1)), 2**n)


def wilson_lower_reference(p: float, n: int, z: float) -> float:
    """Reference Wilson lower bound written straight from the textbook formula."""
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n
    )


def wilson_upper_reference(p: float, n: int, z: float) -> float:
    """Reference Wilson upper bound written straight from the textbook formula."""
    return (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n
    )


# --------------------------------------------------------------------------- McNemar


class TestMcNemarExact:
    def test_b1_c9_two_sided(self) -> None:
        # 2 * (C(10,0) + C(10,1)) / 2**10 = 2 * 11 / 1024
        assert 2 * 11 / 1024 == 0.021484375
        assert mcnemar_exact(1, 9) == pytest.approx(0.021484375, rel=1e-12)
        assert mcnemar_exact(9, 1) == pytest.approx(0.021484375, rel=1e-12)

    def test_b0_c5_two_sided(self) -> None:
        # 2 * C(5,0) / 2**5 = 2 / 32
        assert mcnemar_exact(0, 5) == pytest.approx(0.0625, rel=1e-12)
        assert mcnemar_exact(5, 0) == pytest.approx(0.0625, rel=1e-12)

    def test_balanced_is_one(self) -> None:
        assert mcnemar_exact(5, 5) == 1.0
        assert mcnemar_exact(1, 1) == 1.0
        # 3 vs 4: 2 * P(X <= 3 | n=7) = 2 * 64/128 = 1.0, capped at 1.
        assert mcnemar_exact(3, 4) == 1.0

    def test_no_discordant_pairs(self) -> None:
        for alternative in ("two-sided", "greater", "less"):
            assert mcnemar_exact(0, 0, alternative) == 1.0

    def test_one_sided_greater(self) -> None:
        # Candidate better: fixed=9, broken=1 -> P(X >= 9 | n=10) = (C(10,9) + C(10,10)) / 1024
        assert mcnemar_exact(9, 1, "greater") == pytest.approx(11 / 1024, rel=1e-12)
        # Candidate worse, tested for "better": P(X >= 1 | n=10) = 1 - 1/1024
        assert mcnemar_exact(1, 9, "greater") == pytest.approx(1023 / 1024, rel=1e-12)
        # fixed=5, broken=0: P(X >= 5 | n=5) = 1/32
        assert mcnemar_exact(5, 0, "greater") == pytest.approx(1 / 32, rel=1e-12)

    def test_one_sided_less(self) -> None:
        # Candidate worse: fixed=1, broken=9 -> P(X >= 9 | n=10) = 11/1024
        assert mcnemar_exact(1, 9, "less") == pytest.approx(11 / 1024, rel=1e-12)
        assert mcnemar_exact(9, 1, "less") == pytest.approx(1023 / 1024, rel=1e-12)
        assert mcnemar_exact(0, 5, "less") == pytest.approx(1 / 32, rel=1e-12)

    def test_one_sided_tails_include_the_observed_value(self) -> None:
        # For a balanced split both one-sided p-values are P(X >= 5 | n=10) = 638/1024 > 0.5.
        expected = float(1 - binom_half_cdf(10, 4))
        assert expected == pytest.approx(638 / 1024)
        assert mcnemar_exact(5, 5, "greater") == pytest.approx(expected, rel=1e-12)
        assert mcnemar_exact(5, 5, "less") == pytest.approx(expected, rel=1e-12)

    @pytest.mark.parametrize(("fixed", "broken"), [(3, 17), (20, 40), (37, 21), (100, 130)])
    def test_against_exact_binomial_sums(self, fixed: int, broken: int) -> None:
        n = fixed + broken
        two_sided = min(Fraction(1), 2 * binom_half_cdf(n, min(fixed, broken)))
        greater = 1 - binom_half_cdf(n, fixed - 1)  # P(X >= fixed)
        less = 1 - binom_half_cdf(n, broken - 1)  # P(X >= broken)
        assert mcnemar_exact(fixed, broken) == pytest.approx(float(two_sided), rel=1e-12)
        assert mcnemar_exact(fixed, broken, "greater") == pytest.approx(float(greater), rel=1e-12)
        assert mcnemar_exact(fixed, broken, "less") == pytest.approx(float(less), rel=1e-12)

    @pytest.mark.parametrize(("fixed", "broken"), [(12_000, 13_000), (25_300, 24_700)])
    def test_large_n_stays_accurate(self, fixed: int, broken: int) -> None:
        n = fixed + broken
        m = min(fixed, broken)
        term = total = 1
        for k in range(m):  # exact sum of C(n, k), k = 0..m
            term = term * (n - k) // (k + 1)
            total += term
        expected = min(1.0, 2 * total / 2**n)
        assert 0.0 < expected < 1.0
        assert mcnemar_exact(fixed, broken) == pytest.approx(expected, rel=1e-9)

    def test_very_large_n_is_finite_and_symmetric(self) -> None:
        p = mcnemar_exact(50_000, 50_000, "greater")
        assert 0.5 < p < 0.51
        assert mcnemar_exact(50_000, 50_000) == 1.0
        assert mcnemar_exact(30_000, 70_000) == pytest.approx(0.0, abs=1e-300)
        assert (
            mcnemar_exact(49_000, 51_000, "less") + mcnemar_exact(49_000, 51_000, "greater") > 1.0
        )

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError, match="alternative must be one of"):
            mcnemar_exact(1, 2, "bigger")
        with pytest.raises(ValueError, match="fixed must be a non-negative integer"):
            mcnemar_exact(-1, 2)
        with pytest.raises(ValueError, match="broken must be a non-negative integer"):
            mcnemar_exact(1, -2)
        with pytest.raises(ValueError, match="non-negative integer"):
            mcnemar_exact(1.5, 2)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Wilson


class TestWilsonInterval:
    @pytest.mark.parametrize(
        ("successes", "n", "lower", "upper"),
        [
            # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score).
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
            (0, 10, 0.0, 0.2775),
            (10, 10, 0.7225, 1.0),
        ],
    )
    def test_published_values(self, successes: int, n: int, lower: float, upper: float) -> None:
        lo, hi = wilson_interval(successes, n)
        assert lo == pytest.approx(lower, abs=6e-5)
        assert hi == pytest.approx(upper, abs=6e-5)

    def test_extremes_are_exact(self) -> None:
        assert wilson_interval(0, 10)[0] == 0.0
        assert wilson_interval(10, 10)[1] == 1.0

    def test_empty_sample(self) -> None:
        assert wilson_interval(0, 0) == (0.0, 1.0)
        assert wilson_interval_proportion(0.5, 0) == (0.0, 1.0)

    def test_confidence_99_is_wider_and_matches_formula(self) -> None:
        lo95, hi95 = wilson_interval(81, 263)
        lo99, hi99 = wilson_interval(81, 263, confidence=0.99)
        p = 81 / 263
        assert lo99 == pytest.approx(wilson_lower_reference(p, 263, Z99), rel=1e-9)
        assert hi99 == pytest.approx(wilson_upper_reference(p, 263, Z99), rel=1e-9)
        assert lo99 < lo95 < p < hi95 < hi99
        assert (hi99 - lo99) > (hi95 - lo95) * 1.2

    def test_proportion_matches_count_version(self) -> None:
        assert wilson_interval_proportion(81 / 263, 263) == pytest.approx(
            wilson_interval(81, 263), rel=1e-12
        )
        lo, hi = wilson_interval_proportion(0.955, 1000)  # non-integer count allowed
        assert lo == pytest.approx(wilson_lower_reference(0.955, 1000, Z95), rel=1e-9)
        assert hi == pytest.approx(wilson_upper_reference(0.955, 1000, Z95), rel=1e-9)

    @pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, float("nan")])
    def test_confidence_out_of_range(self, confidence: float) -> None:
        with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
            wilson_interval(3, 10, confidence)

    def test_invalid_counts(self) -> None:
        with pytest.raises(ValueError, match=r"successes \(11\) cannot exceed n \(10\)"):
            wilson_interval(11, 10)
        with pytest.raises(ValueError, match="successes must be a non-negative integer"):
            wilson_interval(-1, 10)
        with pytest.raises(ValueError, match="n must be a non-negative integer"):
            wilson_interval(0, -5)
        with pytest.raises(ValueError, match="p must be between 0 and 1"):
            wilson_interval_proportion(1.2, 10)


# --------------------------------------------------------------------------- cases_needed


class TestCasesNeeded:
    def test_example_estimate_096_threshold_095(self) -> None:
        n = cases_needed(0.95, 0.96)
        assert n is not None
        # Normal approximation: n ~ z^2 p (1 - p) / (p - t)^2 ~ 1475; Wilson needs somewhat more.
        assert 1000 < n < 3000
        assert wilson_lower_reference(0.96, n, Z95) >= 0.95
        assert wilson_lower_reference(0.96, n - 1, Z95) < 0.95
        # And 100 cases are nowhere near enough.
        assert wilson_lower_reference(0.96, 100, Z95) < 0.95

    def test_boundary_for_other_settings(self) -> None:
        for threshold, estimate, confidence, z in [(0.8, 0.9, 0.95, Z95), (0.9, 0.99, 0.99, Z99)]:
            n = cases_needed(threshold, estimate, confidence)
            assert n is not None and n > 1
            assert wilson_lower_reference(estimate, n, z) >= threshold
            assert wilson_lower_reference(estimate, n - 1, z) < threshold

    def test_higher_confidence_needs_more_cases(self) -> None:
        n95 = cases_needed(0.95, 0.96, 0.95)
        n99 = cases_needed(0.95, 0.96, 0.99)
        assert n95 is not None and n99 is not None
        assert n99 > n95

    def test_unresolvable(self) -> None:
        assert cases_needed(0.95, 0.95) is None
        assert cases_needed(0.95, 0.90) is None
        assert cases_needed(0.95, 0.9501, max_n=1000) is None

    def test_trivial_threshold(self) -> None:
        assert cases_needed(0.0, 0.5) == 1

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
            cases_needed(0.9, 0.95, confidence=1.0)
        with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
            cases_needed(1.5, 0.95)
        with pytest.raises(ValueError, match="estimate must be between 0 and 1"):
            cases_needed(0.9, -0.1)


# --------------------------------------------------------------------------- F1


class TestF1Score:
    def test_hand_computed(self) -> None:
        targets = [1, 1, 1, 0, 0, 0]
        predictions = [1, 1, 0, 1, 0, 0]
        # tp=2, fp=1, fn=1 -> 2*2 / (2*2 + 1 + 1) = 2/3
        assert f1_score(targets, predictions) == pytest.approx(2 / 3)
        # positive=0: tp=2, fp=1, fn=1 as well
        assert f1_score(targets, predictions, positive=0) == pytest.approx(2 / 3)

    def test_asymmetric_positive_label(self) -> None:
        targets = [1, 1, 1, 1, 0]
        predictions = [1, 1, 1, 0, 1]
        # positive=1: tp=3, fp=1, fn=1 -> 6/8; positive=0: tp=0, fp=1, fn=1 -> 0
        assert f1_score(targets, predictions) == pytest.approx(0.75)
        assert f1_score(targets, predictions, positive=0) == 0.0

    def test_no_positives_predicted(self) -> None:
        assert f1_score([1, 0, 1], [0, 0, 0]) == 0.0

    def test_undefined_is_zero(self) -> None:
        assert f1_score([0, 0, 0], [0, 0, 0]) == 0.0
        assert f1_score([], []) == 0.0

    def test_perfect(self) -> None:
        assert f1_score([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0

    def test_returns_python_float(self) -> None:
        assert type(f1_score([1, 0], [1, 1])) is float

    def test_length_mismatch(self) -> None:
        with pytest.raises(ValueError, match="same length"):
            f1_score([1, 0], [1])


# --------------------------------------------------------------------------- bootstrap


def _noisy_labels(n: int, accuracy: float, seed: int) -> tuple[list[int], list[int]]:
    """Random targets and predictions that agree with probability ``accuracy``."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 2, size=n)
    predictions = np.where(rng.random(n) < accuracy, targets, 1 - targets)
    return targets.tolist(), predictions.tolist()


class TestBootstrap:
    def test_deterministic_for_a_seed(self) -> None:
        targets, predictions = _noisy_labels(200, 0.8, seed=1)
        a = f1_bootstrap_interval(targets, predictions, seed=7)
        b = f1_bootstrap_interval(targets, predictions, seed=7)
        c = f1_bootstrap_interval(targets, predictions, seed=8)
        assert a == b
        assert a != c

    def test_contains_point_estimate(self) -> None:
        targets, predictions = _noisy_labels(300, 0.75, seed=2)
        point = f1_score(targets, predictions)
        lo, hi = f1_bootstrap_interval(targets, predictions)
        assert lo < point < hi
        assert 0.0 <= lo and hi <= 1.0

    def test_narrows_with_more_data(self) -> None:
        small = _noisy_labels(100, 0.8, seed=3)
        large = _noisy_labels(2000, 0.8, seed=3)
        lo_s, hi_s = f1_bootstrap_interval(*small)
        lo_l, hi_l = f1_bootstrap_interval(*large)
        assert (hi_l - lo_l) < (hi_s - lo_s) / 2

    def test_higher_confidence_is_wider(self) -> None:
        targets, predictions = _noisy_labels(300, 0.8, seed=4)
        lo95, hi95 = f1_bootstrap_interval(targets, predictions, confidence=0.95)
        lo80, hi80 = f1_bootstrap_interval(targets, predictions, confidence=0.80)
        assert hi80 - lo80 < hi95 - lo95

    def test_matches_a_bootstrap_over_case_indices(self) -> None:
        # The multinomial draw of the four cells is the same distribution as resampling cases.
        targets, predictions = _noisy_labels(150, 0.7, seed=5)
        t, p = np.asarray(targets), np.asarray(predictions)
        idx = np.random.default_rng(11).integers(0, len(t), size=(20_000, len(t)))
        values = [f1_score(t[row], p[row]) for row in idx]
        reference = np.quantile(values, [0.025, 0.975])
        lo, hi = f1_bootstrap_interval(targets, predictions, n_resamples=20_000, seed=3)
        assert lo == pytest.approx(reference[0], abs=0.01)
        assert hi == pytest.approx(reference[1], abs=0.01)

    def test_independent_of_case_order(self) -> None:
        targets, predictions = _noisy_labels(120, 0.7, seed=6)
        order = np.random.default_rng(1).permutation(120)
        shuffled = (np.asarray(targets)[order], np.asarray(predictions)[order])
        assert f1_bootstrap_interval(targets, predictions) == f1_bootstrap_interval(*shuffled)

    def test_degenerate_data(self) -> None:
        assert f1_bootstrap_interval([1, 0, 1, 1], [1, 0, 1, 1]) == (1.0, 1.0)
        assert f1_bootstrap_interval([1, 1], [0, 0]) == (0.0, 0.0)

    def test_empty_input(self) -> None:
        assert f1_bootstrap_interval([], []) == (0.0, 1.0)

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError, match="same length"):
            f1_bootstrap_interval([1, 0, 1], [1, 0])
        with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
            f1_bootstrap_interval([1, 0], [1, 0], confidence=0.0)
        with pytest.raises(ValueError, match="n_resamples must be a positive integer"):
            f1_bootstrap_interval([1, 0], [1, 0], n_resamples=0)
