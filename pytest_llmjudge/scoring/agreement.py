"""Chance-corrected agreement of verdicts with targets: Cohen's kappa, MCC, balanced accuracy.

Pure functions of a confusion matrix (tp, fp, tn, fn), each with a 95% interval; None where the
statistic is undefined (a margin with no case), never 0.
- kappa: (p_o - p_e) / (1 - p_e). Its interval maps the Wilson interval of the observed
  agreement p_o through that formula, with the chance agreement p_e fixed at its observed value
  (conditional on the margins), which stays inside [-1, 1] and is sane at p_o = 0 or 1.
- MCC: the phi correlation of verdict and target. With the margins fixed it is linear in p_o
  too, so its interval maps the same Wilson interval (Fisher's z under-covers for 0/1 data).
- balanced accuracy: the mean of recall and specificity; its interval averages their Wilson
  bounds (conservative: at least as wide as needed).
"""

from __future__ import annotations

import math

from pytest_llmjudge.scoring.stats import wilson_interval

Interval = tuple[float, float]


def kappa(
    tp: int, fp: int, tn: int, fn: int, confidence: float = 0.95
) -> tuple[float | None, Interval | None]:
    """Cohen's kappa and its interval (None, None when chance agreement is certain)."""
    n = tp + fp + tn + fn
    if n == 0:
        return None, None
    observed = (tp + tn) / n
    chance = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / (n * n)
    if chance >= 1.0:
        return None, None
    low, high = wilson_interval(tp + tn, n, confidence)
    scale = 1.0 - chance
    return (observed - chance) / scale, ((low - chance) / scale, (high - chance) / scale)


def mcc(
    tp: int, fp: int, tn: int, fn: int, confidence: float = 0.95
) -> tuple[float | None, Interval | None]:
    """Matthews' correlation coefficient and its interval (None, None when a margin is empty)."""
    a, b, c, d = tp + fp, tp + fn, tn + fp, tn + fn  # predicted and true positives, negatives
    if a * b * c * d == 0:
        return None, None
    n = tp + fp + tn + fn
    scale = math.sqrt(a * b * c * d)

    def at(observed: float) -> float:  # MCC as the observed agreement p_o, margins fixed
        positives = (n * observed - n + a + b) / 2
        return max(-1.0, min(1.0, (n * positives - a * b) / scale))

    low, high = wilson_interval(tp + tn, n, confidence)
    return (n * tp - a * b) / scale, (at(low), at(high))


def balanced_accuracy(
    tp: int, fp: int, tn: int, fn: int, confidence: float = 0.95
) -> tuple[float | None, Interval | None]:
    """The mean of recall and specificity, and its interval (None, None without both classes)."""
    if tp + fn == 0 or tn + fp == 0:
        return None, None
    recall, specificity = tp / (tp + fn), tn / (tn + fp)
    r_low, r_high = wilson_interval(tp, tp + fn, confidence)
    s_low, s_high = wilson_interval(tn, tn + fp, confidence)
    return (recall + specificity) / 2, ((r_low + s_low) / 2, (r_high + s_high) / 2)
