"""Calibration of a judge that gives a probability of "consistent": Brier score, expected
calibration error (ECE, 10 equal-width bins) and the reliability diagram's bins.

Each figure has a 95% interval: the Brier score's from the normal approximation of a mean
(its terms are bounded, so it holds well from a few dozen cases); the ECE's from a percentile
bootstrap over the cases (400 resamples, 200 past 10,000 cases; a fixed seed, so a rerun
prints the same interval). Both are computed
on the cases whose verdict has a probability; with none they are undefined (None), never 0.
The probability is of the label 1, so the positive setting does not change them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

BINS = 10
BOOTSTRAP_RESAMPLES = 400
BOOTSTRAP_SEED = 20261203  # any fixed seed: the same cases give the same interval


@dataclass(frozen=True)
class Bin:
    """One bin of the reliability diagram: probabilities in [low, high)."""

    low: float
    high: float
    n: int
    mean_probability: float | None  # None for an empty bin
    observed: float | None  # the share of targets equal to 1


@dataclass(frozen=True)
class Calibration:
    """The calibration figures of (probability of 1, target) pairs."""

    n: int
    brier: float | None
    brier_ci: tuple[float, float] | None
    ece: float | None
    ece_ci: tuple[float, float] | None
    bins: tuple[Bin, ...]


def calibration(pairs: Sequence[tuple[float, int]], z: float = 1.959964) -> Calibration:
    """Brier, ECE and the reliability bins of `(probability, target)` pairs."""
    n = len(pairs)
    if n == 0:
        return Calibration(0, None, None, None, None, ())
    errors = [(p - t) ** 2 for p, t in pairs]
    brier = sum(errors) / n
    spread = math.sqrt(sum((e - brier) ** 2 for e in errors) / (n - 1)) if n > 1 else 0.0
    half = z * spread / math.sqrt(n)
    brier_ci = (max(0.0, brier - half), min(1.0, brier + half))
    return Calibration(n, brier, brier_ci, ece(pairs), _ece_interval(pairs), reliability(pairs))


def _bin_of(probability: float) -> int:
    return min(BINS - 1, max(0, int(probability * BINS)))


def reliability(pairs: Sequence[tuple[float, int]]) -> tuple[Bin, ...]:
    """The 10 bins: each one's cases, mean probability and observed share of 1s."""
    members: list[list[tuple[float, int]]] = [[] for _ in range(BINS)]
    for p, t in pairs:
        members[_bin_of(p)].append((p, t))
    return tuple(
        Bin(
            low=i / BINS,
            high=(i + 1) / BINS,
            n=len(group),
            mean_probability=sum(p for p, _ in group) / len(group) if group else None,
            observed=sum(t for _, t in group) / len(group) if group else None,
        )
        for i, group in enumerate(members)
    )


def ece(pairs: Sequence[tuple[float, int]]) -> float | None:
    """Expected calibration error: the bins' |mean probability - observed|, weighted by size."""
    n = len(pairs)
    if n == 0:
        return None
    sums = [[0.0, 0, 0] for _ in range(BINS)]  # probability sum, targets sum, count
    for p, t in pairs:
        cell = sums[_bin_of(p)]
        cell[0] += p
        cell[1] += t
        cell[2] += 1
    return sum(abs(s - k) for s, k, count in sums if count) / n


def _ece_interval(pairs: Sequence[tuple[float, int]]) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the ECE (numpy: only runs with probabilities)."""
    if len(pairs) < 2:
        return None
    import numpy as np

    n = len(pairs)
    probabilities = np.array([p for p, _ in pairs], dtype=float)
    targets = np.array([t for _, t in pairs], dtype=float)
    bins = np.minimum(BINS - 1, np.maximum(0, (probabilities * BINS).astype(int)))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    resamples = BOOTSTRAP_RESAMPLES if n <= 10_000 else BOOTSTRAP_RESAMPLES // 2
    values = np.empty(resamples)
    for r in range(resamples):
        idx = rng.integers(0, n, n)
        chosen = bins[idx]
        p_sum = np.bincount(chosen, weights=probabilities[idx], minlength=BINS)
        t_sum = np.bincount(chosen, weights=targets[idx], minlength=BINS)
        values[r] = np.abs(p_sum - t_sum).sum() / n
    low, high = np.quantile(values, [0.025, 0.975])
    return (float(low), float(high))
