"""The offline judge as a fine-tune: trained in process on the same files, in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.finetune.progress import Progress
from pytest_llmjudge.finetune.spec import FineTuneFailed, FineTuneSpec
from pytest_llmjudge.model.judge import Judge

RECIPE = "local-lexical-2"  # 2: the comparison features of issue 19 (features version 3)
MODEL = "local-lexical"
DEFAULTS: dict[str, Any] = {"seed": 0, "c": 0.3, "cv_folds": 5}
# given only to fit the decision threshold on the validation file, for this metric
THRESHOLD_FOR = "threshold_for"


def hyperparameters(given: dict[str, Any]) -> dict[str, Any]:
    """The local judge's settings: DEFAULTS updated by `given`; unknown names are a ConfigError."""
    known = {*DEFAULTS, THRESHOLD_FOR}
    unknown = set(given) - known
    if unknown:
        raise ConfigError(
            f"unknown local hyperparameters {sorted(unknown)} (known: {sorted(known)})"
        )
    return {**DEFAULTS, **given}


def _threshold(spec: FineTuneSpec, settings: dict[str, Any]) -> Any:
    """The ThresholdFit of `threshold_for` on the spec's validation file (None: not asked)."""
    from pytest_llmjudge.local import ThresholdFit

    metric = settings.get(THRESHOLD_FOR)
    if metric is None:
        return None
    if spec.validation is None:
        raise ConfigError(f"{spec.name}: threshold_for={metric!r} needs a validation= file")
    try:
        return ThresholdFit(spec.validation, str(metric))
    except ValueError as exc:
        raise ConfigError(f"{spec.name}: {exc}") from None


def _chosen(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in ("seed", THRESHOLD_FOR)}


def train(
    spec: FineTuneSpec,
    settings: dict[str, Any],
    artifacts_dir: Path,
    progress: Progress,
    force: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Train (or, unless `force`, load the unchanged) local judge; returns artifact and metrics."""
    from pytest_llmjudge.local import (  # numpy, scikit-learn: lazily
        TrainingSource,
        fingerprint,
        load_or_train,
    )

    sources = [TrainingSource(f.path, f.weight) for f in spec.train]
    chosen, threshold, seed = _chosen(settings), _threshold(spec, settings), int(settings["seed"])
    if force:
        key = fingerprint(sources, seed=seed, threshold=threshold, **chosen)
        (artifacts_dir / f"local-judge-{key[:16]}.json").unlink(missing_ok=True)
    try:
        _, info = load_or_train(sources, artifacts_dir, seed=seed, threshold=threshold, **chosen)
    except ValueError as exc:
        raise FineTuneFailed(f"the local judge cannot be trained: {exc}") from None
    metrics: dict[str, Any] = {"rows": info.n_rows, "seconds": round(info.seconds, 2)}
    if info.cv_accuracy is not None:
        metrics["cv_accuracy"] = round(info.cv_accuracy, 4)
    cv = f", cross-validated accuracy {info.cv_accuracy:.3f}" if info.cv_accuracy else ""
    done = "trained" if info.retrained else "loaded the saved"
    progress.line(f"{done} local judge on {info.n_rows} rows in {info.seconds:.1f} s{cv}")
    if info.threshold is not None:
        metrics["threshold"] = info.threshold.threshold
        progress.line(info.threshold.describe(Path(str(spec.validation)).name))
    if info.warning:
        progress.line(info.warning)
    return info.path, metrics


def judge_for(spec: FineTuneSpec, settings: dict[str, Any]) -> Judge:
    """The local judge over the same files and settings (it reloads the saved artifact)."""
    return Judge(
        name=spec.name,
        kind="fine-tuned",
        backend="local",
        model=MODEL,
        options={
            "train": [{"path": str(f.path), "weight": f.weight} for f in spec.train],
            "seed": int(settings["seed"]),
            "settings": _chosen(settings),
            **(
                {"validation": str(spec.validation), "threshold_for": settings[THRESHOLD_FOR]}
                if settings.get(THRESHOLD_FOR) is not None
                else {}
            ),
        },
    )
