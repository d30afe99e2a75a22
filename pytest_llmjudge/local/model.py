"""The local judge: a logistic regression over comparison features, with readable reasons."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pytest_llmjudge.local.features import FEATURE_NAMES, Comparison, compare

DEFAULT_C = 0.03  # inverse regularisation strength, chosen by grouped 5-fold cross-validation
_MAX_ITEMS = 8


@dataclass(frozen=True)
class TrainingRow:
    """One labelled case: 1 = the hypothesis is consistent with the premise, 0 = it is not."""

    premise: str
    hypothesis: str
    target: int
    weight: float = 1.0


@dataclass(frozen=True)
class LocalPrediction:
    """A verdict: label (1 = consistent), probability of consistent, and why."""

    label: int
    probability: float
    reason: str


@dataclass(frozen=True)
class LocalJudgeModel:
    """Standardised features times coefficients plus intercept, through a logistic function."""

    coefficients: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float = 0.5

    def __post_init__(self) -> None:
        sizes = {len(self.coefficients), len(self.means), len(self.scales)}
        if sizes != {len(FEATURE_NAMES)}:
            expected = len(FEATURE_NAMES)
            raise ValueError(
                f"expected {expected} coefficients, means and scales, got {sorted(sizes)}"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {self.threshold}")

    def predict(self, premise: str, hypothesis: str) -> LocalPrediction:
        """Judge whether ``hypothesis`` is factually consistent with ``premise``."""
        return self.predict_many([(premise, hypothesis)])[0]

    def predict_many(self, pairs: Iterable[tuple[str, str]]) -> list[LocalPrediction]:
        """Judge many (premise, hypothesis) pairs."""
        comparisons = [compare(premise, hypothesis) for premise, hypothesis in pairs]
        if not comparisons:
            return []
        probabilities = self._probabilities(np.array([c.values for c in comparisons]))
        predictions = []
        for comparison, probability in zip(comparisons, probabilities, strict=True):
            label = int(probability >= self.threshold)
            predictions.append(
                LocalPrediction(
                    label, float(probability), explain(comparison, label, float(probability))
                )
            )
        return predictions

    def _probabilities(self, matrix: np.ndarray) -> np.ndarray:
        scaled = (matrix - np.array(self.means)) / np.array(self.scales)
        logits = scaled @ np.array(self.coefficients) + self.intercept
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
        return probabilities


def _quoted(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(f'"{item}"' for item in items[:_MAX_ITEMS])
    return shown + (f" and {len(items) - _MAX_ITEMS} more" if len(items) > _MAX_ITEMS else "")


def explain(comparison: Comparison, label: int, probability: float) -> str:
    """A one-line reason that argues for the verdict ``label``, naming what the document lacks.

    An inconsistent verdict names the unsupported names, numbers and words, the words the document
    never puts beside the summary's names and numbers, or the weak wording;
    a consistent one says what supports it and names any unsupported item it outweighed.
    """
    supported = "all names and numbers of the summary appear in the document"
    new_words = _quoted(comparison.flagged_words)
    if label == 0:
        if comparison.unsupported:
            reason = f"unsupported by the document: {_quoted(comparison.unsupported)}"
            return reason + (f"; new words: {new_words}" if comparison.flagged_words else "")
        if comparison.flagged_words:
            return f"{supported}, but not these words: {new_words}"
        if comparison.unanchored:
            return f"{supported}, but not beside these words: {_quoted(comparison.unanchored)}"
        coverage = f"{comparison.best_coverage:.0%}"
        return f"{supported}, but its wording is weakly supported (best sentence covers {coverage})"
    if comparison.unsupported or comparison.flagged_words:
        missing = _quoted((*comparison.unsupported, *comparison.flagged_words))
        return (
            f"consistent on balance (probability {probability:.2f}): its wording is supported "
            f"(best sentence covers {comparison.best_coverage:.0%}); not in the document, "
            f"outweighed: {missing}"
        )
    return supported


def feature_matrix(rows: Sequence[TrainingRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' feature values, targets and weights."""
    matrix = np.array([compare(row.premise, row.hypothesis).values for row in rows], dtype=float)
    targets = np.array([row.target for row in rows], dtype=int)
    weights = np.array([row.weight for row in rows], dtype=float)
    return matrix, targets, weights


def fit(
    matrix: np.ndarray, targets: np.ndarray, weights: np.ndarray, c: float, seed: int
) -> LocalJudgeModel:
    """A logistic regression on standardised features (row weights are sample weights)."""
    from sklearn.linear_model import LogisticRegression  # imported when training, not at start-up
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(matrix, sample_weight=weights)
    scales = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    classifier = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    classifier.fit((matrix - scaler.mean_) / scales, targets, sample_weight=weights)
    return LocalJudgeModel(
        coefficients=tuple(float(v) for v in classifier.coef_[0]),
        intercept=float(classifier.intercept_[0]),
        means=tuple(float(v) for v in scaler.mean_),
        scales=tuple(float(v) for v in scales),
    )


def document_folds(premises: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """A fold number per row, the same for every row of one document (grouped by premise)."""
    documents = list(dict.fromkeys(premises))
    order = np.random.default_rng(seed).permutation(len(documents))
    fold_of = {
        document: int(position) % folds for document, position in zip(documents, order, strict=True)
    }
    return np.array([fold_of[premise] for premise in premises], dtype=int)


def out_of_fold(
    matrix: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    folds: np.ndarray,
    c: float,
    seed: int,
) -> np.ndarray | None:
    """Each row's probability of consistent from the model fitted without its fold.

    None when a fold's training part lacks a class.
    """
    probabilities = np.zeros(len(targets))
    for fold in sorted(set(folds.tolist())):
        fitted, held = folds != fold, folds == fold
        if len(set(targets[fitted].tolist())) < 2:
            return None
        model = fit(matrix[fitted], targets[fitted], weights[fitted], c, seed)
        probabilities[held] = model._probabilities(matrix[held])
    return probabilities


def train(
    rows: Sequence[TrainingRow],
    *,
    c: float = DEFAULT_C,
    seed: int = 0,
    cv_folds: int = 0,
    threshold: float = 0.5,
) -> tuple[LocalJudgeModel, float | None]:
    """Fit the judge (row weights are sample weights), judging consistent from `threshold` on.

    With ``cv_folds`` >= 2 also return the weighted accuracy of cross-validation grouped by
    document (None when there are too few documents or a fold lacks a class).
    """
    if not math.isfinite(c) or c <= 0:
        raise ValueError(f"c must be a positive number, got {c}")
    if {row.target for row in rows} != {0, 1}:
        raise ValueError("training needs both consistent (1) and inconsistent (0) examples")
    matrix, targets, weights = feature_matrix(rows)
    model = dataclasses.replace(fit(matrix, targets, weights, c, seed), threshold=threshold)
    premises = [row.premise for row in rows]
    if cv_folds < 2 or len(set(premises)) < cv_folds:
        return model, None
    folds = document_folds(premises, cv_folds, seed)
    probabilities = out_of_fold(matrix, targets, weights, folds, c, seed)
    if probabilities is None:
        return model, None
    hits = (probabilities >= model.threshold) == targets
    return model, float(weights @ hits) / float(weights.sum())
