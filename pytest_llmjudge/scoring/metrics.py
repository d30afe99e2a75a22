"""Classification metrics of a judge run: pure functions over (target, prediction) pairs."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from pytest_llmjudge.scoring import agreement
from pytest_llmjudge.scoring.calibration import calibration
from pytest_llmjudge.scoring.consistency import consistency
from pytest_llmjudge.scoring.policies import UnscoredPolicy
from pytest_llmjudge.scoring.stats import f1_interval, wilson_interval, z_value

CONFIDENCE = 0.95  # level of every interval below
REPEAT_UNDEFINED = "no case has two scored repetitions (judge with repeat=N, N >= 2)"
CALIBRATION_UNDEFINED = "no verdict has a probability (the judge gives none)"


class Metrics(BaseModel):
    """Metrics of one (judge, dataset) run.

    Attributes:
        n: cases judged. scored / unscored: with and without a usable answer.
        coverage: scored / n.
        counted: cases in accuracy/precision/recall/F1 (n, or scored when unscored are excluded).
        tp, fp, tn, fn: the confusion matrix for the positive class.
        accuracy, precision, recall, f1: point estimates; None when undefined (precision with
            no positive verdict, recall with no positive target, F1 with neither, accuracy
            with no counted case): shown as n/a, never as 0.
        accuracy_ci, precision_ci, recall_ci: 95% Wilson intervals (over the counted cases,
            the predicted positives and the actual positives); None when undefined.
        f1_ci: 95% interval of F1 (stats.f1_interval: Wilson on TP / (TP + FP + FN)).
        specificity, npv: TN / (TN + FP) and TN / (TN + FN), with Wilson intervals.
        kappa, mcc, balanced_accuracy: chance-corrected agreement with the targets
            (agreement.py), with their intervals; None when undefined (a margin is empty).
        flaky, self_consistency: with repeat=N, the share of cases whose repetitions disagree
            and the mean share agreeing with each case's majority (consistency.py), with
            intervals; None when no case has two scored repetitions (repeat=1).
        brier, ece: for judges that give a probability of "consistent", the Brier score and
            the expected calibration error (10 bins; calibration.py) over the `calibrated`
            cases that have one, with intervals; None when no verdict has a probability.
        repeat: how many times each case was judged; repeated: cases with two scored
            repetitions (what flaky and self_consistency are estimated from).
        positive: the positive class; unscored_policy: how unscored cases were counted.
    """

    n: int
    scored: int
    unscored: int
    coverage: float
    counted: int
    tp: int
    fp: int
    tn: int
    fn: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy_ci: tuple[float, float] | None
    precision_ci: tuple[float, float] | None = None
    recall_ci: tuple[float, float] | None = None
    f1_ci: tuple[float, float] | None = None
    specificity: float | None = None
    specificity_ci: tuple[float, float] | None = None
    npv: float | None = None
    npv_ci: tuple[float, float] | None = None
    kappa: float | None = None
    kappa_ci: tuple[float, float] | None = None
    mcc: float | None = None
    mcc_ci: tuple[float, float] | None = None
    balanced_accuracy: float | None = None
    balanced_accuracy_ci: tuple[float, float] | None = None
    flaky: float | None = None
    flaky_ci: tuple[float, float] | None = None
    self_consistency: float | None = None
    self_consistency_ci: tuple[float, float] | None = None
    brier: float | None = None
    brier_ci: tuple[float, float] | None = None
    ece: float | None = None
    ece_ci: tuple[float, float] | None = None
    calibrated: int = 0
    repeat: int = 1
    repeated: int = 0
    positive: int = 1
    unscored_policy: UnscoredPolicy = "wrong"

    def value(self, name: str) -> float | None:
        """A metric by name, as thresholds refer to it; None when it is undefined."""
        value = getattr(self, name)
        return None if value is None else float(value)

    def interval(self, name: str) -> tuple[float, float] | None:
        """The 95% interval of a metric, or None for a count, coverage or an undefined metric."""
        value = getattr(self, f"{name}_ci", None)
        return None if value is None else (float(value[0]), float(value[1]))

    def undefined(self, name: str) -> str | None:
        """Why a metric has no value (None when it has one)."""
        if self.value(name) is not None:
            return None
        return _UNDEFINED.get(name, "no case to estimate it from")

    def denominator(self, name: str) -> int | None:
        """The number of cases a proportion metric is estimated from (for F1 that of TP / (TP +
        FP + FN), which its interval comes from; None for counts)."""
        return {
            "accuracy": self.counted,
            "precision": self.tp + self.fp,
            "recall": self.tp + self.fn,
            "f1": self.tp + self.fp + self.fn,
            "specificity": self.tn + self.fp,
            "npv": self.tn + self.fn,
            "flaky": self.repeated,
            "self_consistency": self.repeated,
            "brier": self.calibrated,
            "ece": self.calibrated,
        }.get(name)


def effective_prediction(target: int, prediction: int | None, positive: int = 1) -> int:
    """The label an unscored case counts as when wrong: FN for a positive target, else FP."""
    if prediction is not None:
        return prediction
    return 1 - positive if target == positive else positive


def compute_metrics(
    pairs: Sequence[tuple[int, int | None]],
    positive: int = 1,
    unscored: UnscoredPolicy = "wrong",
    repetitions: Sequence[Sequence[int | None]] = (),
    repeat: int = 1,
    probabilities: Sequence[tuple[float, int]] = (),
) -> Metrics:
    """Metrics of (target, prediction-or-None) pairs (each prediction the majority of a case's
    `repetitions`, its verdicts, when it was judged `repeat` > 1 times), and the calibration of
    the `(probability of 1, target)` pairs of the verdicts that have a probability."""
    n = len(pairs)
    n_unscored = sum(1 for _, p in pairs if p is None)
    if unscored == "exclude":
        counted = [(t, p) for t, p in pairs if p is not None]
    else:
        counted = [(t, effective_prediction(t, p, positive)) for t, p in pairs]
    tp = sum(1 for t, p in counted if t == positive and p == positive)
    fp = sum(1 for t, p in counted if t != positive and p == positive)
    fn = sum(1 for t, p in counted if t == positive and p != positive)
    tn = len(counted) - tp - fp - fn
    correct = tp + tn
    kappa, kappa_ci = agreement.kappa(tp, fp, tn, fn, CONFIDENCE)
    mcc, mcc_ci = agreement.mcc(tp, fp, tn, fn, CONFIDENCE)
    balanced, balanced_ci = agreement.balanced_accuracy(tp, fp, tn, fn, CONFIDENCE)
    repeated = consistency(repetitions, CONFIDENCE)
    calibrated = calibration(probabilities, z_value(CONFIDENCE))
    return Metrics(
        n=n,
        scored=n - n_unscored,
        unscored=n_unscored,
        coverage=_ratio(n - n_unscored, n) or 0.0,
        counted=len(counted),
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        accuracy=_ratio(correct, len(counted)),
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),  # = 2PR / (P + R), defined when either side is
        accuracy_ci=_defined(wilson_interval(correct, len(counted), CONFIDENCE), len(counted)),
        precision_ci=_defined(wilson_interval(tp, tp + fp, CONFIDENCE), tp + fp),
        recall_ci=_defined(wilson_interval(tp, tp + fn, CONFIDENCE), tp + fn),
        f1_ci=_defined(f1_interval(tp, fp, fn, CONFIDENCE), tp + fp + fn),
        specificity=_ratio(tn, tn + fp),
        specificity_ci=_defined(wilson_interval(tn, tn + fp, CONFIDENCE), tn + fp),
        npv=_ratio(tn, tn + fn),
        npv_ci=_defined(wilson_interval(tn, tn + fn, CONFIDENCE), tn + fn),
        kappa=kappa,
        kappa_ci=kappa_ci,
        mcc=mcc,
        mcc_ci=mcc_ci,
        balanced_accuracy=balanced,
        balanced_accuracy_ci=balanced_ci,
        flaky=repeated.flaky,
        flaky_ci=repeated.flaky_ci,
        self_consistency=repeated.self_consistency,
        self_consistency_ci=repeated.self_consistency_ci,
        brier=calibrated.brier,
        brier_ci=calibrated.brier_ci,
        ece=calibrated.ece,
        ece_ci=calibrated.ece_ci,
        calibrated=calibrated.n,
        repeat=repeat,
        repeated=repeated.cases,
        positive=positive,
        unscored_policy=unscored,
    )


_UNDEFINED = {
    "accuracy": "no case was counted",
    "precision": "the judge gave no positive verdict (TP + FP = 0)",
    "recall": "no case has a positive target (TP + FN = 0)",
    "f1": "no positive verdict and no positive target (TP + FP + FN = 0)",
    "specificity": "no case has a negative target (TN + FP = 0)",
    "npv": "the judge gave no negative verdict (TN + FN = 0)",
    "kappa": "chance agreement is certain (every target and verdict is one label)",
    "mcc": "a margin is empty (no verdict or no target of one label)",
    "balanced_accuracy": "the targets hold only one label",
    "flaky": REPEAT_UNDEFINED,
    "self_consistency": REPEAT_UNDEFINED,
    "brier": CALIBRATION_UNDEFINED,
    "ece": CALIBRATION_UNDEFINED,
}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _defined(interval: tuple[float, float], denominator: int) -> tuple[float, float] | None:
    return interval if denominator else None
