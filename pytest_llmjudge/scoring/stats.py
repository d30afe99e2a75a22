"""Small statistics helpers: uncertainty on a judge's metrics and paired judge comparison.

Everything here is pure (no I/O, no pytest) and depends only on ``math`` and ``statistics``.
"""

from __future__ import annotations

import math
import numbers
from statistics import NormalDist

__all__ = [
    "cases_needed",
    "f1_interval",
    "mcnemar_exact",
    "wilson_interval",
    "wilson_interval_proportion",
]

_ALTERNATIVES = ("two-sided", "greater", "less")
# Above this many discordant pairs McNemar's tail is summed from an exact anchor in floating point.
_EXACT_SUM_MAX_N = 20_000


# --------------------------------------------------------------------------- validation


def _check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, raising ValueError unless 0 < confidence < 1."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}"
        )
    value = float(confidence)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return value


def _check_count(name: str, value: int) -> int:
    """Return ``value`` as an int, raising ValueError unless it is a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_unit(name: str, value: float) -> float:
    """Return ``value`` as a float, raising ValueError unless 0 <= value <= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    result = float(value)
    if not 0.0 <= result <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return result


def z_value(confidence: float) -> float:
    """Two-sided standard-normal critical value for ``confidence`` (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


# --------------------------------------------------------------------------- Wilson


def wilson_interval_proportion(p: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for an observed proportion ``p`` (need not be k/n) over ``n`` cases."""
    confidence = _check_confidence(confidence)
    p = _check_unit("p", p)
    n = _check_count("n", n)
    if n == 0:
        return (0.0, 1.0)
    z = z_value(confidence)
    z2_n = z * z / n
    denominator = 1.0 + z2_n
    centre = (p + z2_n / 2.0) / denominator
    half_width = (z / denominator) * math.sqrt(p * (1.0 - p) / n + z2_n / (4.0 * n))
    lower = 0.0 if p == 0.0 else max(0.0, centre - half_width)
    upper = 1.0 if p == 1.0 else min(1.0, centre + half_width)
    return (lower, upper)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n``; ``(0.0, 1.0)`` when ``n == 0``."""
    confidence = _check_confidence(confidence)
    successes = _check_count("successes", successes)
    n = _check_count("n", n)
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n})")
    if n == 0:
        return (0.0, 1.0)
    return wilson_interval_proportion(successes / n, n, confidence)


def cases_needed(
    threshold: float, estimate: float, confidence: float = 0.95, max_n: int = 10**7
) -> int | None:
    """Smallest n where the Wilson lower bound for ``estimate`` reaches ``threshold``, or None."""
    confidence = _check_confidence(confidence)
    threshold = _check_unit("threshold", threshold)
    estimate = _check_unit("estimate", estimate)
    max_n = _check_count("max_n", max_n)
    if estimate <= threshold or max_n < 1:
        return None

    def reaches(n: int) -> bool:
        """Whether ``n`` cases at the estimated rate lift the Wilson lower bound to threshold."""
        return wilson_interval_proportion(estimate, n, confidence)[0] >= threshold

    # For a fixed proportion the Wilson lower bound increases monotonically with n.
    if not reaches(max_n):
        return None
    low, high = 1, max_n  # invariant: reaches(high) is True
    while low < high:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid + 1
    return high


# --------------------------------------------------------------------------- F1


def f1_interval(tp: int, fp: int, fn: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for F1 = 2TP / (2TP + FP + FN), from the counts of the confusion matrix.

    F1 = 2J / (1 + J) with J = TP / (TP + FP + FN) (the Jaccard index), an increasing map. Given
    m = TP + FP + FN, TP is Binomial(m, J) when cases are drawn independently, so the Wilson
    interval of TP out of m, mapped to F1, covers as Wilson's does: no resampling, no seed, and
    no collapse to a point at F1 = 1. (0.0, 1.0) when m = 0.
    """
    lower, upper = wilson_interval(tp, tp + fp + fn, confidence)
    return (2 * lower / (1 + lower), 2 * upper / (1 + upper))


# --------------------------------------------------------------------------- McNemar


def _binomial_half_cdf(n: int, m: int) -> float:
    """P(X <= m) for X ~ Binomial(n, 1/2), from an exact integer sum of binomial coefficients."""
    if m < 0:
        return 0.0
    if m >= n:
        return 1.0
    if 2 * m > n:
        # The shorter, complementary tail; it is <= 1/2 here, so 1 - tail loses no precision.
        return 1.0 - _binomial_half_cdf(n, n - m - 1)
    if n <= _EXACT_SUM_MAX_N:
        term = 1  # C(n, 0)
        total = 1
        for k in range(m):
            term = term * (n - k) // (k + 1)  # exactly C(n, k + 1)
            total += term
        return total / (1 << n)  # int / int is correctly rounded, even for huge integers
    # Large n: anchor on the exact C(n, m) and sum the ratios C(n, k) / C(n, m) for k <= m in
    # floating point; they decay at least geometrically, so this stops after O(sqrt(n)) terms
    # with a relative error around 1e-13 instead of summing m huge integers.
    ratio_sum = 1.0
    ratio = 1.0
    for k in range(m, 0, -1):
        ratio *= k / (n - k + 1)  # C(n, k - 1) / C(n, k)
        ratio_sum += ratio
        if ratio < ratio_sum * 1e-18:
            break
    scaled = round(ratio_sum * (1 << 53))
    return (math.comb(n, m) * scaled) / (1 << (n + 53))


def mcnemar_exact(fixed: int, broken: int, alternative: str = "two-sided") -> float:
    """Exact McNemar p-value from the discordant-pair counts ``fixed`` and ``broken``.

    ``fixed`` counts cases only the candidate gets right, ``broken`` cases only the baseline gets
    right. ``"greater"`` tests that the candidate is better (P(X >= fixed), X ~ Bin(n, 1/2)),
    ``"less"`` that it is worse (P(X >= broken)); ``"two-sided"`` is min(1, 2 * smaller tail).
    """
    fixed = _check_count("fixed", fixed)
    broken = _check_count("broken", broken)
    if alternative not in _ALTERNATIVES:
        raise ValueError(
            f"alternative must be one of {', '.join(_ALTERNATIVES)}; got {alternative!r}"
        )
    n = fixed + broken
    if n == 0:
        return 1.0
    if alternative == "greater":
        # P(X >= fixed) for X ~ Bin(n, 1/2), equal to P(X <= broken) by symmetry.
        return _binomial_half_cdf(n, broken)
    if alternative == "less":
        # P(X >= broken), equal to P(X <= fixed).
        return _binomial_half_cdf(n, fixed)
    return min(1.0, 2.0 * _binomial_half_cdf(n, min(fixed, broken)))
