"""The offline judge as a fine-tune: trained in process on the same files, in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.finetune.progress import Progress
from pytest_llmjudge.finetune.spec import FineTuneFailed, FineTuneSpec
from pytest_llmjudge.model.judge import Judge

RECIPE = "local-lexical-1"
MODEL = "local-lexical"
DEFAULTS: dict[str, Any] = {"seed": 0, "c": 0.3, "cv_folds": 5}


def hyperparameters(given: dict[str, Any]) -> dict[str, Any]:
    """The local judge's settings: DEFAULTS updated by `given`; unknown names are a ConfigError."""
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ConfigError(
            f"unknown local hyperparameters {sorted(unknown)} (known: {sorted(DEFAULTS)})"
        )
    return {**DEFAULTS, **given}


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
    chosen = {k: v for k, v in settings.items() if k != "seed"}
    if force:
        key = fingerprint(sources, seed=int(settings["seed"]), **chosen)
        (artifacts_dir / f"local-judge-{key[:16]}.json").unlink(missing_ok=True)
    try:
        _, info = load_or_train(sources, artifacts_dir, seed=int(settings["seed"]), **chosen)
    except ValueError as exc:
        raise FineTuneFailed(f"the local judge cannot be trained: {exc}") from None
    metrics: dict[str, Any] = {"rows": info.n_rows, "seconds": round(info.seconds, 2)}
    if info.cv_accuracy is not None:
        metrics["cv_accuracy"] = round(info.cv_accuracy, 4)
    cv = f", cross-validated accuracy {info.cv_accuracy:.3f}" if info.cv_accuracy else ""
    done = "trained" if info.retrained else "loaded the saved"
    progress.line(f"{done} local judge on {info.n_rows} rows in {info.seconds:.1f} s{cv}")
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
            "settings": {k: v for k, v in settings.items() if k != "seed"},
        },
    )
