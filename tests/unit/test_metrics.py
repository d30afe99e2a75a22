"""Metrics against values computed by hand from small confusion matrices."""

from __future__ import annotations

import pytest

from pytest_llmjudge.scoring.metrics import compute_metrics, effective_prediction


def pairs(tp: int = 0, fp: int = 0, tn: int = 0, fn: int = 0, unscored: tuple[int, ...] = ()):
    """(target, prediction) pairs with the given confusion counts (positive class 1), then
    one unscored (target, None) pair per entry of `unscored`."""
    return (
        [(1, 1)] * tp
        + [(0, 1)] * fp
        + [(0, 0)] * tn
        + [(1, 0)] * fn
        + [(t, None) for t in unscored]
    )


def test_confusion_matrix_tp3_fp1_tn4_fn2() -> None:
    m = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2))
    assert (m.tp, m.fp, m.tn, m.fn) == (3, 1, 4, 2)
    assert m.n == m.counted == m.scored == 10
    assert m.unscored == 0
    assert m.coverage == 1.0
    assert m.accuracy == pytest.approx(0.7)  # (3 + 4) / 10
    assert m.precision == pytest.approx(0.75)  # 3 / (3 + 1)
    assert m.recall == pytest.approx(0.6)  # 3 / (3 + 2)
    assert m.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)  # = 2/3
    assert m.f1 == pytest.approx(2 / 3)


def test_accuracy_interval_brackets_the_point_estimate() -> None:
    m = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2))
    lo, hi = m.accuracy_ci
    assert 0.0 < lo < 0.7 < hi < 1.0


def test_order_of_pairs_does_not_matter() -> None:
    forward = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2))
    backward = compute_metrics(list(reversed(pairs(tp=3, fp=1, tn=4, fn=2))))
    assert forward == backward


def test_perfect_judge() -> None:
    m = compute_metrics(pairs(tp=5, tn=5))
    assert (m.accuracy, m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0, 1.0)


def test_unscored_counts_as_fn_for_target_1_and_fp_for_target_0() -> None:
    # tp=3 fp=1 tn=4 fn=2, plus unscored: two with target 1 (-> FN), one with target 0 (-> FP)
    m = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2, unscored=(1, 1, 0)))
    assert (m.tp, m.fp, m.tn, m.fn) == (3, 2, 4, 4)
    assert m.n == m.counted == 13
    assert m.scored == 10
    assert m.unscored == 3
    assert m.coverage == pytest.approx(10 / 13)
    assert m.accuracy == pytest.approx(7 / 13)
    assert m.precision == pytest.approx(3 / 5)
    assert m.recall == pytest.approx(3 / 7)
    p, r = 3 / 5, 3 / 7
    assert m.f1 == pytest.approx(2 * p * r / (p + r))  # = 6/12 = 0.5
    assert m.f1 == pytest.approx(0.5)
    assert m.unscored_policy == "wrong"


def test_exclude_policy_drops_unscored_from_the_matrix_but_not_from_coverage() -> None:
    m = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2, unscored=(1, 1, 0)), unscored="exclude")
    assert (m.tp, m.fp, m.tn, m.fn) == (3, 1, 4, 2)
    assert m.n == 13
    assert m.counted == 10
    assert m.unscored == 3
    assert m.coverage == pytest.approx(10 / 13)
    assert m.accuracy == pytest.approx(0.7)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.unscored_policy == "exclude"


def test_all_unscored_with_exclude_leaves_the_rates_undefined_not_zero() -> None:
    m = compute_metrics([(1, None), (0, None)], unscored="exclude")
    assert m.counted == 0
    assert m.coverage == 0.0
    assert (m.accuracy, m.precision, m.recall, m.f1) == (None, None, None, None)
    assert m.accuracy_ci is None
    assert m.undefined("accuracy") == "no case was counted"


def test_empty_input_gives_zero_counts_and_undefined_rates() -> None:
    m = compute_metrics([])
    assert (m.n, m.scored, m.unscored, m.counted) == (0, 0, 0, 0)
    assert (m.tp, m.fp, m.tn, m.fn) == (0, 0, 0, 0)
    assert (m.accuracy, m.precision, m.recall, m.f1) == (None, None, None, None)
    assert m.coverage == 0.0
    assert m.accuracy_ci is None


def test_no_positive_verdict_leaves_precision_undefined_and_f1_zero() -> None:
    m = compute_metrics(pairs(tn=3, fn=2))
    assert m.accuracy == pytest.approx(0.6)
    assert m.precision is None and m.precision_ci is None
    assert m.undefined("precision") == "the judge gave no positive verdict (TP + FP = 0)"
    assert (m.recall, m.f1) == (0.0, 0.0)  # defined: 2 positive targets, both missed
    assert m.undefined("recall") is None


def test_no_positive_target_and_verdict_leaves_recall_and_f1_undefined() -> None:
    m = compute_metrics(pairs(tn=4))
    assert (m.precision, m.recall, m.f1) == (None, None, None)
    assert m.accuracy == 1.0


def test_positive_class_0_swaps_the_roles() -> None:
    # With positive 0: tp = (0, 0) cases, fp = (1, 0), fn = (0, 1), tn = (1, 1).
    data = [(0, 0)] * 4 + [(1, 0)] * 2 + [(0, 1)] * 1 + [(1, 1)] * 3
    m = compute_metrics(data, positive=0)
    assert m.positive == 0
    assert (m.tp, m.fp, m.tn, m.fn) == (4, 2, 3, 1)
    assert m.accuracy == pytest.approx(0.7)
    assert m.precision == pytest.approx(4 / 6)
    assert m.recall == pytest.approx(4 / 5)
    p, r = 4 / 6, 4 / 5
    assert m.f1 == pytest.approx(2 * p * r / (p + r))
    # the same data seen with positive class 1 gives different precision / recall
    m1 = compute_metrics(data, positive=1)
    assert (m1.tp, m1.fp, m1.tn, m1.fn) == (3, 1, 4, 2)
    assert m1.accuracy == m.accuracy


def test_unscored_with_positive_class_0_is_fn_for_target_0_and_fp_for_target_1() -> None:
    m = compute_metrics([(0, None), (1, None)], positive=0)
    assert (m.tp, m.fp, m.tn, m.fn) == (0, 1, 0, 1)
    assert m.accuracy == 0.0


@pytest.mark.parametrize(
    ("target", "prediction", "positive", "expected"),
    [
        (1, 1, 1, 1),
        (0, 1, 1, 1),  # a scored prediction is kept as is
        (1, None, 1, 0),  # unscored positive target -> counted as a miss (FN)
        (0, None, 1, 1),  # unscored negative target -> counted as a false alarm (FP)
        (0, None, 0, 1),  # positive class 0: unscored target 0 -> FN
        (1, None, 0, 0),  # positive class 0: unscored target 1 -> FP
    ],
)
def test_effective_prediction(
    target: int, prediction: int | None, positive: int, expected: int
) -> None:
    assert effective_prediction(target, prediction, positive) == expected


def test_value_reads_a_metric_by_name() -> None:
    m = compute_metrics(pairs(tp=3, fp=1, tn=4, fn=2))
    assert m.value("accuracy") == pytest.approx(0.7)
    assert m.value("n") == 10.0
    assert m.value("coverage") == 1.0
