"""Train once, keep the model as a JSON artifact keyed by a fingerprint, and reuse it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_llmjudge.local.features import FEATURE_NAMES, FEATURES_VERSION
from pytest_llmjudge.local.model import DEFAULT_C, LocalJudgeModel, TrainingRow, train
from pytest_llmjudge.model.dataset import load_cases
from pytest_llmjudge.scoring.decision import FIT_METRICS, FittedThreshold, fit_threshold

ARTIFACT_FORMAT = "pytest-llmjudge/local-judge"
ARTIFACT_FORMAT_VERSION = 1
DEFAULT_SETTINGS: dict[str, Any] = {"c": DEFAULT_C, "cv_folds": 5, "decision_threshold": 0.5}


class ArtifactError(Exception):
    """An artifact file that cannot be used (unreadable, foreign, stale or damaged)."""


@dataclass(frozen=True)
class TrainingSource:
    """A JSONL file of cases and the sample weight its rows get."""

    path: Path
    weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"weight of {self.path} must be a positive number, got {self.weight}")


@dataclass(frozen=True)
class TrainInfo:
    """How the model was obtained: loaded from ``path``, or trained (``retrained``) and saved."""

    fingerprint: str
    path: Path
    retrained: bool
    seconds: float
    n_rows: int
    warning: str | None = None
    cv_accuracy: float | None = None
    threshold: FittedThreshold | None = None  # the decision threshold, when fit


SourceLike = TrainingSource | tuple[str | Path, float] | str | Path


@dataclass(frozen=True)
class ThresholdFit:
    """Fit the decision threshold on the labelled JSONL file `path` for `metric`."""

    path: Path
    metric: str = "accuracy"

    def __post_init__(self) -> None:
        if self.metric not in FIT_METRICS:
            raise ValueError(
                f"cannot fit a threshold for {self.metric!r}; one of {', '.join(FIT_METRICS)}"
            )


def _as_source(source: SourceLike) -> TrainingSource:
    if isinstance(source, TrainingSource):
        return source
    if isinstance(source, tuple):
        return TrainingSource(Path(source[0]), float(source[1]))
    return TrainingSource(Path(source))


def _package_version() -> str:
    try:
        return metadata.version("pytest-llmjudge")
    except metadata.PackageNotFoundError:
        return "unknown"


def fingerprint(
    sources: Iterable[SourceLike],
    *,
    seed: int = 0,
    threshold: ThresholdFit | None = None,
    **settings: Any,
) -> str:
    """sha256 of the training files' contents and weights, the settings, seed, code version and
    (when the decision threshold is fit) the validation file's contents and the metric."""
    key: dict[str, Any] = {
        "format": [ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION],
        "features_version": FEATURES_VERSION,
        "package_version": _package_version(),
        "seed": seed,
        "settings": _settings(settings),
        "sources": [
            [hashlib.sha256(source.path.read_bytes()).hexdigest(), source.weight]
            for source in map(_as_source, sources)
        ],
    }
    if threshold is not None:
        key["threshold"] = [
            hashlib.sha256(threshold.path.read_bytes()).hexdigest(),
            threshold.metric,
        ]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise TypeError(
            f"unknown local judge settings: {sorted(unknown)} (known: {sorted(DEFAULT_SETTINGS)})"
        )
    return {**DEFAULT_SETTINGS, **settings}


def save_model(
    model: LocalJudgeModel,
    path: Path,
    *,
    fingerprint: str,
    n_rows: int,
    cv_accuracy: float | None,
    fitted: FittedThreshold | None = None,
) -> None:
    """Write the model as JSON, atomically (temporary file, then rename)."""
    document = {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_FORMAT_VERSION,
        "fingerprint": fingerprint,
        "feature_names": list(FEATURE_NAMES),
        "coefficients": list(model.coefficients),
        "intercept": model.intercept,
        "means": list(model.means),
        "scales": list(model.scales),
        "n_rows": n_rows,
        "cv_accuracy": cv_accuracy,
        "threshold": model.threshold,
        "threshold_fit": dataclasses.asdict(fitted) if fitted else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _number(value: Any, key: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ArtifactError(f"'{key}' holds a value that is not a finite number")
    return float(value)


def _numbers(document: dict[str, Any], key: str) -> tuple[float, ...]:
    values = document.get(key)
    if not isinstance(values, list) or len(values) != len(FEATURE_NAMES):
        raise ArtifactError(f"'{key}' is not a list of {len(FEATURE_NAMES)} numbers")
    return tuple(_number(value, key) for value in values)


def load_model(path: Path, *, fingerprint: str) -> tuple[LocalJudgeModel, dict[str, Any]]:
    """Read and check an artifact (plain JSON: no code runs); ArtifactError if it is unusable."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ArtifactError(f"not readable JSON ({type(error).__name__}: {error})") from None
    if not isinstance(document, dict) or document.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(
            f"not a local judge artifact (format marker {ARTIFACT_FORMAT!r} missing)"
        )
    if document.get("format_version") != ARTIFACT_FORMAT_VERSION:
        raise ArtifactError(
            f"format version {document.get('format_version')!r}, expected {ARTIFACT_FORMAT_VERSION}"
        )
    if document.get("fingerprint") != fingerprint:
        found = str(document.get("fingerprint"))[:16]
        raise ArtifactError(f"fingerprint {found!r} does not match {fingerprint[:16]!r}")
    if document.get("feature_names") != list(FEATURE_NAMES):
        raise ArtifactError("its feature names differ from this version's")
    scales = _numbers(document, "scales")
    if any(scale <= 0 for scale in scales):
        raise ArtifactError("'scales' holds a value that is not positive")
    threshold = _number(document.get("threshold", 0.5), "threshold")
    if not 0.0 < threshold < 1.0:
        raise ArtifactError("'threshold' does not lie strictly between 0 and 1")
    model = LocalJudgeModel(
        coefficients=_numbers(document, "coefficients"),
        intercept=_number(document.get("intercept"), "intercept"),
        means=_numbers(document, "means"),
        scales=scales,
        threshold=threshold,
    )
    return model, document


def load_or_train(
    sources: Iterable[SourceLike],
    artifact_dir: Path,
    *,
    seed: int = 0,
    threshold: ThresholdFit | None = None,
    **settings: Any,
) -> tuple[LocalJudgeModel, TrainInfo]:
    """Load the artifact matching the data, settings and seed, or train and save a new model
    (with `threshold`, its decision threshold fit on a validation file, and kept in it).

    Settings: ``c`` (inverse regularisation, default 0.03), ``cv_folds`` (grouped
    cross-validation folds for ``TrainInfo.cv_accuracy``; 0 skips it) and ``decision_threshold``
    (the probability from which a case is judged consistent, default 0.5, unless `threshold`
    fits one). A damaged or foreign
    artifact is never used: the model is retrained and ``TrainInfo.warning`` says what was wrong.
    """
    started = time.perf_counter()
    chosen_sources = [_as_source(source) for source in sources]
    if not chosen_sources:
        raise ValueError("no training sources given")
    chosen = _settings(settings)
    key = fingerprint(chosen_sources, seed=seed, threshold=threshold, **chosen)
    path = Path(artifact_dir) / f"local-judge-{key[:16]}.json"
    warning = None
    if path.exists():
        try:
            model, document = load_model(path, fingerprint=key)
        except ArtifactError as error:
            warning = f"ignored local judge artifact {path}: {error}; retrained it"
        else:
            n_rows = document.get("n_rows")
            cv = document.get("cv_accuracy")
            fit = document.get("threshold_fit")
            return model, TrainInfo(
                fingerprint=key,
                path=path,
                retrained=False,
                seconds=time.perf_counter() - started,
                n_rows=n_rows if isinstance(n_rows, int) else 0,
                cv_accuracy=float(cv) if isinstance(cv, int | float) else None,
                threshold=FittedThreshold(**fit) if isinstance(fit, dict) else None,
            )
    rows = [
        TrainingRow(case.premise, case.hypothesis, case.target, source.weight)
        for source in chosen_sources
        for case in load_cases(source.path)
    ]
    model, cv_accuracy = train(
        rows,
        c=float(chosen["c"]),
        seed=seed,
        cv_folds=int(chosen["cv_folds"]),
        threshold=float(chosen["decision_threshold"]),
    )
    fitted = None
    if threshold is not None:
        cases = load_cases(threshold.path)
        found = model.predict_many((case.premise, case.hypothesis) for case in cases)
        pairs = [(p.probability, case.target) for p, case in zip(found, cases, strict=True)]
        fitted = fit_threshold(pairs, threshold.metric)
        model = dataclasses.replace(model, threshold=fitted.threshold)
    try:
        save_model(
            model,
            path,
            fingerprint=key,
            n_rows=len(rows),
            cv_accuracy=cv_accuracy,
            fitted=fitted,
        )
    except OSError as error:
        warning = "; ".join(
            filter(None, [warning, f"could not save local judge artifact {path}: {error}"])
        )
    return model, TrainInfo(
        fingerprint=key,
        path=path,
        retrained=True,
        seconds=time.perf_counter() - started,
        n_rows=len(rows),
        warning=warning,
        cv_accuracy=cv_accuracy,
        threshold=fitted,
    )
