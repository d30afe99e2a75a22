"""Tests for pytest_llmjudge.scoring.stats; each test derives its expected values."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from pytest_llmjudge.scoring.stats import (
    cases_needed,
    f1_interval,
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


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


class TestF1Interval:
    def test_is_wilson_on_the_jaccard_index_mapped_to_f1(self) -> None:
        # tp=30, fp=12, fn=8: J = 30/50 = 0.6 over m = 50; F1 = 2J / (1 + J)
        lo, hi = f1_interval(30, 12, 8)
        j_lo, j_hi = wilson_lower_reference(0.6, 50, Z95), wilson_upper_reference(0.6, 50, Z95)
        assert lo == pytest.approx(2 * j_lo / (1 + j_lo), abs=1e-12)
        assert hi == pytest.approx(2 * j_hi / (1 + j_hi), abs=1e-12)
        assert _f1(30, 12, 8) == pytest.approx(0.75)
        assert lo < 0.75 < hi

    def test_covers_the_true_f1_about_95_percent_of_the_time(self) -> None:
        # 4,000 runs of 200 cases from a known confusion distribution (tp, fp, fn, tn)
        probabilities = [0.35, 0.10, 0.10, 0.45]
        true_f1 = 2 * 0.35 / (2 * 0.35 + 0.10 + 0.10)
        draws = np.random.default_rng(0).multinomial(200, probabilities, size=4000)
        covered = 0
        for tp, fp, fn, _ in draws:
            lo, hi = f1_interval(int(tp), int(fp), int(fn))
            covered += lo <= true_f1 <= hi
        assert 0.935 <= covered / 4000 <= 0.965

    def test_narrows_with_more_cases_and_widens_with_confidence(self) -> None:
        small, large = f1_interval(30, 10, 10), f1_interval(600, 200, 200)
        assert (large[1] - large[0]) < (small[1] - small[0]) / 3
        lo80, hi80 = f1_interval(30, 10, 10, confidence=0.80)
        assert hi80 - lo80 < small[1] - small[0]

    def test_a_perfect_run_of_few_cases_is_not_certain(self) -> None:
        lo, hi = f1_interval(4, 0, 0)
        assert hi == 1.0 and lo < 0.8

    def test_no_positive_anywhere_is_uninformative(self) -> None:
        assert f1_interval(0, 0, 0) == (0.0, 1.0)
        assert f1_interval(0, 3, 2)[0] == 0.0

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
            f1_interval(1, 0, 0, confidence=1.0)
        with pytest.raises(ValueError):
            f1_interval(-1, 0, 0)
