"""Chance-corrected agreement metrics, checked against scikit-learn and by simulated coverage."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, matthews_corrcoef

from pytest_llmjudge.scoring import agreement
from pytest_llmjudge.scoring.metrics import compute_metrics
from pytest_llmjudge.scoring.thresholds import parse_threshold


def pairs(tp: int, fp: int, tn: int, fn: int) -> list[tuple[int, int]]:
    return [(1, 1)] * tp + [(0, 1)] * fp + [(0, 0)] * tn + [(1, 0)] * fn


@pytest.mark.parametrize("counts", [(40, 10, 40, 10), (5, 1, 80, 14), (30, 0, 2, 8), (1, 2, 3, 4)])
def test_point_values_match_scikit_learn(counts: tuple[int, int, int, int]) -> None:
    data = pairs(*counts)
    targets, verdicts = [t for t, _ in data], [p for _, p in data]
    m = compute_metrics(data)
    assert m.kappa == pytest.approx(cohen_kappa_score(targets, verdicts))
    assert m.mcc == pytest.approx(matthews_corrcoef(targets, verdicts))
    assert m.balanced_accuracy == pytest.approx(balanced_accuracy_score(targets, verdicts))
    tp, fp, tn, fn = counts
    assert m.specificity == pytest.approx(tn / (tn + fp))
    assert m.npv == pytest.approx(tn / (tn + fn))
    for name in ("kappa", "mcc", "balanced_accuracy", "specificity", "npv"):
        low, high = m.interval(name)  # type: ignore[misc]
        assert low <= m.value(name) <= high  # type: ignore[operator]


def test_an_always_positive_judge_on_a_skewed_set() -> None:
    m = compute_metrics(pairs(tp=90, fp=10, tn=0, fn=0))  # 90% positive, always says 1
    assert m.accuracy == pytest.approx(0.9)
    assert m.kappa == pytest.approx(0.0)
    assert m.mcc is None and m.mcc_ci is None  # a verdict margin is empty: undefined, not 0
    assert "margin is empty" in (m.undefined("mcc") or "")
    assert m.balanced_accuracy == pytest.approx(0.5)
    assert m.specificity == 0.0
    assert m.npv is None


def test_undefined_when_one_label_only() -> None:
    m = compute_metrics(pairs(tp=10, fp=0, tn=0, fn=0))
    assert (m.kappa, m.mcc, m.balanced_accuracy, m.specificity, m.npv) == (None,) * 5


def test_kappa_and_mcc_intervals_cover_about_95_percent() -> None:
    rng = random.Random(7)
    n, prevalence, sensitivity, specificity = 300, 0.4, 0.8, 0.85
    # the true values, from the population confusion shares
    tp, fn = prevalence * sensitivity, prevalence * (1 - sensitivity)
    tn, fp = (1 - prevalence) * specificity, (1 - prevalence) * (1 - specificity)
    true_kappa, _ = agreement.kappa(*(round(x * 10**6) for x in (tp, fp, tn, fn)))
    true_mcc, _ = agreement.mcc(*(round(x * 10**6) for x in (tp, fp, tn, fn)))
    hits = {"kappa": 0, "mcc": 0}
    trials = 400
    for _ in range(trials):
        data = []
        for _ in range(n):
            target = int(rng.random() < prevalence)
            right = rng.random() < (sensitivity if target else specificity)
            data.append((target, target if right else 1 - target))
        m = compute_metrics(data)
        for name, truth in (("kappa", true_kappa), ("mcc", true_mcc)):
            low, high = m.interval(name)  # type: ignore[misc]
            hits[name] += low <= truth <= high
    for name, count in hits.items():
        assert 0.91 <= count / trials <= 0.99, (name, count / trials)


def test_the_new_metrics_take_thresholds() -> None:
    assert str(parse_threshold("kappa>=0.6")) == "kappa>=0.6"
    assert parse_threshold("judge:mcc>0.5").judge == "judge"
    with pytest.raises(Exception, match="rate between 0 and 1"):
        parse_threshold("specificity>=90")
