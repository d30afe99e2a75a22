"""The `llmjudge` marker: which datasets, judges and thresholds a test evaluates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.dataset import Dataset, DatasetSource
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.plugin.markers import MARKER, MARKER_HELP
from pytest_llmjudge.scoring.thresholds import (
    Threshold,
    check_scopes,
    check_slices,
    thresholds_from,
)

D = TypeVar("D", bound=DatasetSource)

_ROLE = re.compile(r"^[A-Za-z0-9_.+-]+$")
_KWARGS = {"dataset", "datasets", "judges", "thresholds", "baseline", "require_better", "repeat"}


@dataclass(frozen=True)
class MarkerSpec:
    """What an `llmjudge` marker declares."""

    datasets: tuple[Dataset, ...]
    judges: tuple[Judge | str, ...]
    thresholds: tuple[Threshold, ...]
    baseline: str | bool | None = None
    require_better: bool = False
    repeat: int | None = None

    def baseline_role(self, judge: Judge | str) -> str | None:
        """The baseline a judge is compared with: the marker's role, or the judge's own name."""
        if self.baseline is True:
            return judge_label(judge)
        return self.baseline or None


def parse_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any], base: Path) -> MarkerSpec:
    """Validate the marker's keyword arguments; relative dataset paths resolve against `base`."""
    check_arguments(MARKER, args, kwargs, _KWARGS, usage=f": {MARKER_HELP}")
    datasets = declared_datasets(MARKER, kwargs, Dataset, base)
    judges = tuple(listed("judges", kwargs.get("judges"), (Judge, str)))
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
    thresholds = marker_thresholds(kwargs, labels, datasets)
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
    repeat = kwargs.get("repeat")
    if repeat is not None and (
        isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1
    ):
        raise ConfigError(
            f"repeat: expected a positive integer (times each case is judged), got {repeat!r}"
        )
    return MarkerSpec(datasets, judges, thresholds, baseline, require_better, repeat)


def judge_label(judge: Judge | str) -> str:
    """A judge's id in test ids: its name, or the name of the fixture that provides it."""
    return judge.name if isinstance(judge, Judge) else judge


def marker_thresholds(
    kwargs: Mapping[str, Any], names: list[str], datasets: tuple[DatasetSource, ...]
) -> tuple[Threshold, ...]:
    """The marker's thresholds=, each scoped (if at all) to one of the marker's `names`, and
    to a slice (if at all) by a key one of its `datasets` slices by."""
    try:
        thresholds = thresholds_from(kwargs.get("thresholds"))
    except Exception as exc:
        raise ConfigError(f"thresholds: {exc}") from None
    check_scopes(thresholds, names, "thresholds=")
    check_slices(thresholds, {key for d in datasets for key in d.slice_by}, "thresholds=")
    return thresholds


def listed(argument: str, value: Any, kinds: tuple[type, ...]) -> list[Any]:
    """A marker argument that takes a list; one item given bare is an error that shows the fix."""
    if value is None:
        return []
    if isinstance(value, str | Path):
        raise ConfigError(f"{argument}= takes a list: write {argument}=[{str(value)!r}]")
    if isinstance(value, kinds):
        raise ConfigError(
            f"{argument}= takes a list: put the {type(value).__name__} in one, {argument}=[...]"
        )
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{argument}= takes a list, got {type(value).__name__} {value!r}")
    return list(value)


def check_arguments(
    marker: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    allowed: set[str],
    usage: str = "",
) -> None:
    """A marker takes known keyword arguments only."""
    if args:
        raise ConfigError(f"@pytest.mark.{marker} takes keyword arguments only{usage}")
    unknown = set(kwargs) - allowed
    if unknown:
        raise ConfigError(
            f"@pytest.mark.{marker}: unknown argument(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(allowed))}"
        )


def declared_datasets(
    marker: str, kwargs: Mapping[str, Any], kind: type[D], base: Path
) -> tuple[D, ...]:
    """The marker's dataset= and datasets=, as `kind`, resolved against `base`, names unique."""
    raw = listed("datasets", kwargs.get("datasets"), (str, Path, DatasetSource))
    if kwargs.get("dataset") is not None:
        raw.insert(0, kwargs["dataset"])
    if not raw:
        raise ConfigError(f"@pytest.mark.{marker} needs dataset= or datasets=")
    datasets = []
    for item in raw:
        if isinstance(item, str | Path):
            item = kind(path=Path(item))
        if not isinstance(item, kind):
            raise ConfigError(f"dataset: expected a path or a {kind.__name__}, got {item!r}")
        datasets.append(item.resolved(base))
    labels = [d.label for d in datasets]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"datasets: duplicate dataset names {labels}; set name=")
    return tuple(datasets)
