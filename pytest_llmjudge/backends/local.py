"""The offline judge: a model trained in process on JSONL files (no key, network or GPU)."""

from __future__ import annotations

from pathlib import Path

from pytest_llmjudge.errors import ConfigError, DatasetError
from pytest_llmjudge.local import (
    LocalJudgeModel,
    ThresholdFit,
    TrainInfo,
    TrainingSource,
    load_or_train,
)
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings


class LocalBackend:
    """Trains (or reuses) the local judge when created, then judges each case in about 1 ms."""

    def __init__(self, judge: Judge, settings: Settings) -> None:
        self.notes: list[str] = []
        self.model, info = train_local(judge, settings)
        self.notes.append(describe(judge, info))
        if info.warning:
            self.notes.append(info.warning)

    def unavailable(self) -> str | None:
        return None

    async def judge(self, case: Case) -> Verdict:
        prediction = self.model.predict(case.premise, case.hypothesis)
        return Verdict(
            prediction=prediction.label,
            reason=prediction.reason,
            probability=prediction.probability,
        )

    async def aclose(self) -> None:
        return None


def train_local(judge: Judge, settings: Settings) -> tuple[LocalJudgeModel, TrainInfo]:
    """Load or train the model of a local judge, its training paths resolved against rootdir."""
    raw = judge.options.get("train")
    if not raw:
        raise ConfigError(f"judge {judge.name!r}: a local judge needs options['train'] files")
    sources = []
    for item in raw:
        path = Path(item["path"])
        path = path if path.is_absolute() else settings.rootdir / path
        if not path.exists():
            raise ConfigError(f"judge {judge.name!r}: training file {path} not found")
        sources.append(TrainingSource(path, item.get("weight", 1.0)))
    threshold = None
    if judge.options.get("validation"):
        path = Path(judge.options["validation"])
        path = path if path.is_absolute() else settings.rootdir / path
        if not path.exists():
            raise ConfigError(f"judge {judge.name!r}: validation file {path} not found")
        metric = str(judge.options.get("threshold_for") or "accuracy")
        try:
            threshold = ThresholdFit(path, metric)
        except ValueError as exc:
            raise ConfigError(f"judge {judge.name!r}: {exc}") from None
    try:
        return load_or_train(
            sources,
            settings.artifacts_dir,
            seed=int(judge.options.get("seed", 0)),
            threshold=threshold,
            **judge.options.get("settings", {}),
        )
    except (ValueError, TypeError, DatasetError) as exc:
        raise ConfigError(f"judge {judge.name!r}: cannot train: {exc}") from None


def describe(judge: Judge, info: TrainInfo) -> str:
    """One line saying how the judge was obtained."""
    cv = (
        f", cross-validated accuracy {info.cv_accuracy:.3f}" if info.cv_accuracy is not None else ""
    )
    if info.threshold is not None:
        where = Path(str(judge.options.get("validation"))).name
        cv += "; " + info.threshold.describe(where)
    if info.retrained:
        return (
            f"local judge {judge.name!r}: trained on {info.n_rows} rows in {info.seconds:.1f} s"
            f"{cv}; saved {info.path}"
        )
    return f"local judge {judge.name!r}: reused {info.path} ({info.n_rows} rows{cv})"
