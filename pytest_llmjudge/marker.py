"""The `llmjudge` marker: which datasets, judges and thresholds a test evaluates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dataset import Dataset
from .errors import ConfigError
from .judge import Judge
from .thresholds import Threshold, thresholds_from

MARKER = "llmjudge"
MARKER_HELP = (
    "llmjudge(dataset=PATH|Dataset, datasets=[...], judges=[Judge|fixture-name, ...], "
    "thresholds=['f1>=0.8', ...] | {'accuracy': 0.7}, baseline=True|'role', "
    "require_better=False): evaluate judges on labelled JSONL cases"
)
_ROLE = re.compile(r"^[A-Za-z0-9_.+-]+$")
_KWARGS = {"dataset", "datasets", "judges", "thresholds", "baseline", "require_better"}


@dataclass(frozen=True)
class MarkerSpec:
    """What an `llmjudge` marker declares."""

    datasets: tuple[Dataset, ...]
    judges: tuple[Judge | str, ...]
    thresholds: tuple[Threshold, ...]
    baseline: str | bool | None = None
    require_better: bool = False

    def baseline_role(self, judge: Judge | str) -> str | None:
        """The baseline a judge is compared with: the marker's role, or the judge's own name."""
        if self.baseline is True:
            return judge_label(judge)
        return self.baseline or None


def parse_marker(args: tuple[Any, ...], kwargs: dict[str, Any], base: Path) -> MarkerSpec:
    """Validate the marker's keyword arguments; relative dataset paths resolve against `base`."""
    if args:
        raise ConfigError(f"@pytest.mark.{MARKER} takes keyword arguments only: {MARKER_HELP}")
    unknown = set(kwargs) - _KWARGS
    if unknown:
        raise ConfigError(
            f"@pytest.mark.{MARKER}: unknown argument(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(_KWARGS))}"
        )
    raw = list(kwargs.get("datasets") or [])
    if kwargs.get("dataset") is not None:
        raw.insert(0, kwargs["dataset"])
    if not raw:
        raise ConfigError(f"@pytest.mark.{MARKER} needs dataset= or datasets=")
    datasets = tuple(_dataset(item).resolved(base) for item in raw)
    judges = tuple(kwargs.get("judges") or ())
    if not judges:
        raise ConfigError(
            f"@pytest.mark.{MARKER} needs judges=[...] (Judge objects or fixture names)"
        )
    for judge in judges:
        if not isinstance(judge, Judge | str):
            raise ConfigError(f"judges: expected a Judge or a fixture name, got {judge!r}")
    labels = [judge_label(j) for j in judges]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"judges: duplicate judge names {labels}")
    dataset_labels = [d.label for d in datasets]
    if len(set(dataset_labels)) != len(dataset_labels):
        raise ConfigError(f"datasets: duplicate dataset names {dataset_labels}; set name=")
    try:
        thresholds = thresholds_from(kwargs.get("thresholds"))
    except Exception as exc:
        raise ConfigError(f"thresholds: {exc}") from None
    baseline = kwargs.get("baseline")
    if baseline is not None and not isinstance(baseline, bool | str):
        raise ConfigError(f"baseline: expected True or a role name, got {baseline!r}")
    if isinstance(baseline, str) and not _ROLE.match(baseline):
        raise ConfigError(
            f"baseline: role name {baseline!r} must be letters, digits, '_', '.', '+' or '-'"
        )
    require_better = kwargs.get("require_better", False)
    if not isinstance(require_better, bool):
        raise ConfigError(f"require_better: expected True or False, got {require_better!r}")
    if require_better and not baseline:
        raise ConfigError("require_better=True needs a baseline (baseline=True or a role name)")
    return MarkerSpec(datasets, judges, thresholds, baseline, require_better)


def judge_label(judge: Judge | str) -> str:
    """A judge's id in test ids: its name, or the name of the fixture that provides it."""
    return judge.name if isinstance(judge, Judge) else judge


def _dataset(item: Any) -> Dataset:
    if isinstance(item, Dataset):
        return item
    if isinstance(item, str | Path):
        return Dataset(path=Path(item))
    raise ConfigError(f"dataset: expected a path or a Dataset, got {item!r}")
