"""Collection glue shared by judge and generator evaluations: markers, datasets, skip items."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from pytest_llmjudge.errors import ConfigError, DatasetError

Spec = TypeVar("Spec")


class DatasetLike(Protocol):
    """What collection needs of a judge or generator dataset."""

    path: Path
    optional: bool

    @property
    def label(self) -> str: ...

    def load(self) -> list[Any]: ...


def marker_spec(
    metafunc: pytest.Metafunc,
    marker_name: str,
    fixture: str,
    usage: str,
    parse: Callable[[tuple[Any, ...], Mapping[str, Any], Path], Spec],
) -> Spec:
    """The parsed marker of a test that uses `fixture`; a missing or bad marker is a clean error."""
    node = metafunc.definition.nodeid
    marker = metafunc.definition.get_closest_marker(marker_name)
    if marker is None:
        raise pytest.Collector.CollectError(
            f"{node}: uses {fixture} but has no @pytest.mark.{marker_name}({usage})"
        )
    try:
        return parse(marker.args, marker.kwargs, metafunc.definition.path.parent)
    except ConfigError as exc:
        raise pytest.Collector.CollectError(f"{node}: {exc}") from None


def missing_reason(dataset: DatasetLike) -> str | None:
    """Why an optional dataset's items are skipped (its file is absent), or None."""
    if dataset.optional and not dataset.path.exists():
        return f"optional dataset {dataset.path} not found"
    return None


def skipped_params(labels: Iterable[str], dataset: DatasetLike, reason: str) -> list[Any]:
    """One skipped item per judge or generator for a dataset that is not there."""
    mark = pytest.mark.skip(reason=reason)
    return [pytest.param(None, id=f"{label}-{dataset.label}", marks=mark) for label in labels]


def load_dataset(dataset: DatasetLike) -> list[Any]:
    """The dataset's cases; a bad file stops collection with its file:line message."""
    try:
        return dataset.load()
    except DatasetError as exc:
        raise pytest.Collector.CollectError(f"llmjudge dataset error: {exc}") from None


def run_refs(items: Iterable[pytest.Item]) -> list[Any]:
    """Every collected item's run parameter, of both kinds (judge cases, generator cases)."""
    from pytest_llmjudge.model.gen_run import AnswerRef
    from pytest_llmjudge.model.runs import CaseRef

    refs: list[Any] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        for fixture, kind in (("llmjudge_result", CaseRef), ("llmjudge_answer", AnswerRef)):
            ref = callspec.params.get(fixture)
            if isinstance(ref, kind):
                refs.append(ref)
    return refs
