"""Offline, CPU-only hallucination judge: a small model trained locally on labelled JSONL cases."""

from pytest_llmjudge.local.artifact import (
    ArtifactError,
    ThresholdFit,
    TrainInfo,
    TrainingSource,
    fingerprint,
    load_or_train,
)
from pytest_llmjudge.local.features import FEATURE_NAMES, FEATURES_VERSION
from pytest_llmjudge.local.model import LocalJudgeModel, LocalPrediction, TrainingRow, train

__all__ = [
    "FEATURE_NAMES",
    "FEATURES_VERSION",
    "ArtifactError",
    "LocalJudgeModel",
    "LocalPrediction",
    "ThresholdFit",
    "TrainInfo",
    "TrainingRow",
    "TrainingSource",
    "fingerprint",
    "load_or_train",
    "train",
]
