"""Calibration: Brier score, ECE over 10 bins, the reliability bins, and their intervals."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import brier_score_loss

from pytest_llmjudge.scoring.calibration import calibration, ece, reliability
from pytest_llmjudge.scoring.metrics import compute_metrics


def simulated(n: int, seed: int, bias: float = 0.0) -> list[tuple[float, int]]:
    """`n` probabilities with targets drawn from them shifted by `bias` (0: calibrated)."""
    draw = random.Random(seed)
    pairs = []
    for _ in range(n):
        p = draw.random()
        pairs.append((p, int(draw.random() < min(1.0, max(0.0, p + bias)))))
    return pairs


def test_brier_matches_scikit_learn_and_ece_is_the_weighted_bin_gap() -> None:
    pairs = simulated(300, 1)
    found = calibration(pairs)
    assert found.brier == pytest.approx(
        brier_score_loss([t for _, t in pairs], [p for p, _ in pairs])
    )
    bins = reliability(pairs)
    assert len(bins) == 10 and sum(b.n for b in bins) == 300
    by_hand = sum(b.n * abs(b.mean_probability - b.observed) for b in bins if b.n) / 300
    assert found.ece == pytest.approx(by_hand)
    # a judge sure of every verdict and always right: a perfect score on both
    assert ece([(1.0, 1), (0.0, 0), (1.0, 1)]) == 0.0
    assert calibration([(1.0, 1), (0.0, 0)]).brier == 0.0
    # p = 1.0 falls in the last bin, not an eleventh
    assert reliability([(1.0, 1)])[-1].n == 1


def test_nothing_to_calibrate_is_undefined_not_zero() -> None:
    empty = calibration([])
    assert (empty.brier, empty.ece, empty.brier_ci, empty.ece_ci) == (None, None, None, None)
    m = compute_metrics([(1, 1), (0, 0)])
    assert m.brier is None and m.ece is None and m.calibrated == 0
    assert "no verdict has a probability" in (m.undefined("ece") or "")


def test_a_miscalibrated_judge_has_a_larger_ece_whose_interval_excludes_a_calibrated_one() -> None:
    calibrated, biased = calibration(simulated(2000, 2)), calibration(simulated(2000, 2, 0.25))
    assert calibrated.ece_ci is not None and biased.ece_ci is not None
    assert calibrated.ece_ci[1] < biased.ece_ci[0]
    assert biased.ece_ci[0] <= biased.ece <= biased.ece_ci[1]  # type: ignore[operator]
    assert calibration(simulated(2000, 2)).ece_ci == calibrated.ece_ci  # seeded: the same


def test_the_brier_interval_covers_the_true_score_about_95_percent() -> None:
    true_brier = 1 / 6  # E[(p - t)^2] for p ~ U(0, 1), t ~ Bernoulli(p): E[p(1 - p)] = 1/6
    hits = 0
    for seed in range(300):
        low, high = calibration(simulated(200, 100 + seed)).brier_ci  # type: ignore[misc]
        hits += low <= true_brier <= high
    assert 0.92 <= hits / 300 <= 0.98


def test_metrics_carry_calibration_and_take_gates() -> None:
    from pytest_llmjudge.scoring.thresholds import parse_threshold

    pairs = simulated(100, 3)
    m = compute_metrics([(t, int(p >= 0.5)) for p, t in pairs], probabilities=pairs)
    assert m.calibrated == 100 and m.brier == pytest.approx(calibration(pairs).brier)
    assert m.interval("ece") is not None
    assert parse_threshold("ece<=0.2").metric == "ece"
    with pytest.raises(Exception, match="between 0 and 1"):
        parse_threshold("brier<=2")


def test_a_fitted_threshold_maximises_its_metric_nearest_one_half_on_ties() -> None:
    from pytest_llmjudge.scoring.decision import fit_threshold

    # 1s have probabilities 0.30-0.39, 0s 0.10-0.19: any threshold in (0.19, 0.30] is perfect
    pairs = [(0.30 + i / 100, 1) for i in range(10)] + [(0.10 + i / 100, 0) for i in range(10)]
    fitted = fit_threshold(pairs, "accuracy")
    assert (fitted.threshold, fitted.value, fitted.rows) == (0.3, 1.0, 20)
    assert "decision threshold 0.30 fit on v.jsonl (20 rows) for accuracy" in fitted.describe(
        "v.jsonl"
    )
    assert fit_threshold([(0.9, 1), (0.1, 0)], "f1").threshold == 0.5  # all of 0.11-0.90 tie
    with pytest.raises(ValueError, match="cannot fit a threshold for 'ece'"):
        fit_threshold(pairs, "ece")
