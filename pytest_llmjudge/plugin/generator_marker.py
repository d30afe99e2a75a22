"""The `llmjudge_generator` marker: which generators, sampling grid, judge and gates a test uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.gen_dataset import GenDataset
from pytest_llmjudge.model.generator import Generator, Sampling, sampling_grid
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.plugin.judge_marker import (
    check_arguments,
    declared_datasets,
    listed,
    marker_thresholds,
)
from pytest_llmjudge.plugin.markers import GEN_MARKER
from pytest_llmjudge.scoring.correction import JudgeRates
from pytest_llmjudge.scoring.thresholds import GENERATOR_METRICS, Threshold

_KWARGS = {
    "dataset",
    "datasets",
    "generators",
    "judge",
    "sampling",
    "samples",
    "thresholds",
    "relevancy",
    "compare",
    "require_better",
    "judge_rates",
}


@dataclass(frozen=True)
class GenMarkerSpec:
    """What an `llmjudge_generator` marker declares.

    Attributes:
        datasets: the generator datasets.
        generators: Generator objects or names of fixtures returning one.
        judge: the judge of faithfulness (a Judge or a fixture name).
        grid: the sampling points, as the settings each sets (others: the generator's own).
        samples: answers per case and point (None: each generator's own).
        thresholds: gates of every run.
        relevancy: "lexical", "judge", a Judge, a fixture name, or None (not rated).
        compare: (baseline generator, candidate generator), or None.
        require_better: the candidate must be significantly better than the baseline.
        judge_rates: the judge's sensitivity and specificity on hallucination, given (None:
            measured by its judge runs in the session, if any).
    """

    datasets: tuple[GenDataset, ...]
    generators: tuple[Generator | str, ...]
    judge: Judge | str
    grid: tuple[dict[str, Any], ...]
    samples: int | None
    thresholds: tuple[Threshold, ...]
    relevancy: str | Judge | None = "lexical"
    compare: tuple[str, str] | None = None
    require_better: bool = False
    judge_rates: JudgeRates | None = None

    def points(self, generator: Generator | None) -> tuple[Sampling, ...]:
        """The sampling points of a generator: its own settings updated by each grid point."""
        base = generator.sampling if generator is not None else Sampling()
        return tuple(base.model_copy(update=point) for point in self.grid)


def generator_label(generator: Generator | str) -> str:
    """A generator's id in test ids: its name, or the name of the fixture that provides it."""
    return generator.name if isinstance(generator, Generator) else generator


def parse_gen_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any], base: Path) -> GenMarkerSpec:
    """Validate the marker's keyword arguments; relative dataset paths resolve against `base`."""
    check_arguments(GEN_MARKER, args, kwargs, _KWARGS)
    datasets = declared_datasets(GEN_MARKER, kwargs, GenDataset, base)
    generators = tuple(listed("generators", kwargs.get("generators"), (Generator, str)))
    if not generators:
        raise ConfigError(
            f"@pytest.mark.{GEN_MARKER} needs generators=[...] (Generator objects or fixture names)"
        )
    for generator in generators:
        if not isinstance(generator, Generator | str):
            raise ConfigError(
                f"generators: expected a Generator or a fixture name, got {generator!r}"
            )
    names = [generator_label(g) for g in generators]
    if len(set(names)) != len(names):
        raise ConfigError(f"generators: duplicate generator names {names}")
    judge = kwargs.get("judge")
    if not isinstance(judge, Judge | str):
        raise ConfigError(
            f"@pytest.mark.{GEN_MARKER} needs judge= (a Judge or a fixture name), got {judge!r}"
        )
    grid = _grid(kwargs.get("sampling"))
    samples = kwargs.get("samples")
    if samples is not None and (
        isinstance(samples, bool) or not isinstance(samples, int) or samples < 1
    ):
        raise ConfigError(f"samples: expected a positive integer, got {samples!r}")
    thresholds = marker_thresholds(kwargs, names, datasets)
    for threshold in thresholds:
        if threshold.metric not in GENERATOR_METRICS:
            raise ConfigError(
                f"thresholds: {threshold} is a judge metric; a generator run has "
                f"{', '.join(GENERATOR_METRICS)}"
            )
    relevancy = kwargs.get("relevancy", "lexical")
    if relevancy is not None and not isinstance(relevancy, Judge | str):
        raise ConfigError(
            f"relevancy: expected 'lexical', 'judge', a Judge, a fixture name or None, "
            f"got {relevancy!r}"
        )
    pair = kwargs.get("compare")
    compare: tuple[str, str] | None = None
    if pair is not None:
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(p, str) for p in pair)
        ):
            raise ConfigError(f"compare: expected (baseline, candidate) names, got {pair!r}")
        missing = [p for p in pair if p not in names]
        if missing or pair[0] == pair[1]:
            raise ConfigError(
                f"compare: {tuple(pair)!r} must name two of the marker's generators {names}"
            )
        compare = (pair[0], pair[1])
    require_better = kwargs.get("require_better", False)
    if not isinstance(require_better, bool):
        raise ConfigError(f"require_better: expected True or False, got {require_better!r}")
    if require_better and compare is None:
        raise ConfigError("require_better=True needs compare=(baseline, candidate)")
    return GenMarkerSpec(
        datasets,
        generators,
        judge,
        grid,
        samples,
        thresholds,
        relevancy,
        compare,
        require_better,
        _judge_rates(kwargs.get("judge_rates")),
    )


def _judge_rates(spec: Any) -> JudgeRates | None:
    """judge_rates={"sensitivity": 0.8, "specificity": 0.9, "inconsistent": 50, "consistent":
    50} (the counts they were measured on; without them the rates are taken as exact)."""
    if spec is None or isinstance(spec, JudgeRates):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(f"judge_rates: expected a dict or a JudgeRates, got {spec!r}")
    try:
        return JudgeRates(**spec)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"judge_rates: {exc} (keys: sensitivity, specificity, inconsistent, consistent)"
        ) from None


def _grid(spec: Any) -> tuple[dict[str, Any], ...]:
    """The grid's points as updates of a generator's own settings (validated on a default)."""
    if spec is None:
        return ({},)
    points = sampling_grid(spec, Sampling())  # validates keys and values
    if isinstance(spec, dict):
        return tuple({k: getattr(p, k) for k in spec} for p in points)
    return tuple({k: getattr(p, k) for k in item} for p, item in zip(points, spec, strict=True))
