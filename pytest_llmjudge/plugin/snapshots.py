"""syrupy glue of baselines: the JSON snapshot extensions and what a baseline item does.

Imported only when a baseline item runs (results.snapshot_glue), so syrupy stays optional.
The baseline goes through syrupy's own SnapshotAssertion, so syrupy's `--snapshot-update`
records it, its report counts it, and its unused-snapshot detection knows the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.location import PyTestLocation

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.evaluation.baseline import snapshot_payload
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import BaselineRef
from pytest_llmjudge.scoring.comparison import (
    CaseMismatchError,
    Comparison,
    baseline_cases,
    check_same_cases,
)

if TYPE_CHECKING:
    from syrupy.types import SerializableData, SnapshotIndex

    from pytest_llmjudge.evaluation.session import EvalSession

_SUFFIX = "baseline]"


class BaselineRecorder(JSONSnapshotExtension):
    """A baseline as `__snapshots__/<module>/<test>[<role>-baseline].json`; equal text matches.

    The name is the test function's, not the item's, so a candidate judge's item reads the
    snapshot of the role it is compared with.
    """

    @classmethod
    def get_snapshot_name(cls, *, test_location: PyTestLocation, index: SnapshotIndex = 0) -> str:
        prefix = f"{test_location.classname}." if test_location.classname else ""
        return cls._sanitize_filename(f"{prefix}{test_location.methodname}[{index}]")

    @classmethod
    def matches_test_location(
        cls, *, test_location: PyTestLocation, snapshot_location: str
    ) -> bool:
        # A baseline item claims its role's snapshot (syrupy warns on writes it cannot relate
        # to the item, and uses this to decide which snapshots a run left unused).
        if super().matches_test_location(
            test_location=test_location, snapshot_location=snapshot_location
        ):
            return True
        path = Path(snapshot_location)
        if path.parent.name != test_location.basename or not path.name.endswith(".json"):
            return False
        params = getattr(getattr(test_location.item, "callspec", None), "params", None)
        if params is None:  # an item rebuilt on the pytest-xdist controller
            return test_location.nodename is not None and test_location.nodename.endswith(_SUFFIX)
        ref = params.get("llmjudge_result")
        return isinstance(ref, BaselineRef) and path.stem == cls.get_snapshot_name(
            test_location=test_location, index=ref.spec.snapshot_index
        )


class BaselineComparator(BaselineRecorder):
    """Reads a baseline: it matches when it holds the same cases (the verdicts may differ;
    the statistics decide), and raises CaseMismatchError when it does not."""

    def matches(
        self, *, serialized_data: SerializableData, snapshot_data: SerializableData
    ) -> bool:
        stored = json.loads(str(snapshot_data))
        received = json.loads(str(serialized_data))
        check_same_cases(
            baseline_cases(stored), baseline_cases(received), str(stored.get("baseline"))
        )
        return True


@dataclass(frozen=True)
class BaselineResult:
    """What a baseline item's `llmjudge_result` is: the run compared with its stored baseline.

    Attributes:
        role: the baseline's role.
        judge: the judge compared.
        snapshot: the snapshot file.
        recorded: whether this item recorded the baseline (--snapshot-update).
        comparison: the comparison (None when recorded or when it could not be made).
        error: why no comparison could be made (no snapshot, other cases).
    """

    role: str
    judge: str
    snapshot: str
    recorded: bool = False
    comparison: Comparison | None = None
    error: str | None = None

    @property
    def correct(self) -> bool:
        """Whether the baseline gates passed (or the baseline was recorded)."""
        return self.error is None and (self.comparison is None or self.comparison.passed)

    def check(self) -> None:
        """Fail the item when the comparison gates failed or no comparison could be made."""
        if self.error is not None:
            pytest.fail(self.error, pytrace=False)
        if self.comparison is not None and not self.comparison.passed:
            failures = "; ".join(self.comparison.failures)
            pytest.fail(
                f"judge {self.judge} vs baseline {self.role!r}: {self.comparison.why()}; "
                f"FAILED: {failures}",
                pytrace=False,
            )


def baseline_result(
    request: pytest.FixtureRequest, evals: EvalSession, ref: BaselineRef, judge: Judge
) -> BaselineResult:
    """Judge the run's whole batch, then record its baseline or compare it with the stored one."""
    config: Any = request.config
    syrupy_session = getattr(config, "_syrupy", None)
    if syrupy_session is None:
        raise ConfigError(
            "baselines are syrupy snapshots, but the syrupy plugin is not active "
            "(was it disabled with -p no:syrupy?)"
        )
    run = evals.judge_run_of(ref.run)
    run.baseline = ref.spec
    if not evals.judge_run(ref.run, judge):
        pytest.skip(f"judge {ref.run.judge}: {run.skipped}")
    spec = ref.spec
    update = bool(config.option.update_snapshots) and spec.records
    new_only = bool(getattr(config.option, "update_new_snapshots_only", False)) and spec.records
    assertion = SnapshotAssertion(
        update_snapshots=update,
        update_new_snapshots_only=new_only,
        extension_class=BaselineRecorder if update else BaselineComparator,
        test_location=PyTestLocation(request.node),
        session=syrupy_session,
    )
    location = assertion.extension.get_location(
        test_location=assertion.test_location, index=spec.snapshot_index
    )
    shown = _relative(location, Path(config.rootpath))
    _ = assertion(name=spec.snapshot_index) == snapshot_payload(run, evals.settings)
    outcome = assertion.executions[assertion.num_executions - 1]
    if outcome.exception is not None and not isinstance(outcome.exception, CaseMismatchError):
        raise outcome.exception
    result = BaselineResult(spec.role, ref.run.judge, shown)
    if update or outcome.created or outcome.updated:
        run.baseline_data = None  # just recorded: nothing to compare with
        return BaselineResult(spec.role, ref.run.judge, shown, recorded=True)
    if outcome.recalled_data is None:
        hint = (
            "record it with `pytest --snapshot-update`"
            if spec.records
            else f"record it by running judge {spec.role!r} with `pytest --snapshot-update`"
        )
        return _with_error(
            result, f"no baseline {spec.role!r} on {ref.run.dataset} at {shown}: {hint}"
        )
    run.baseline_data = json.loads(str(outcome.recalled_data))
    if outcome.exception is not None:
        return _with_error(result, f"{shown}: {outcome.exception}")
    try:
        comparison = evals.compare(run)
    except CaseMismatchError as exc:  # unreachable unless the snapshot changed in between
        return _with_error(result, f"{shown}: {exc}")
    return BaselineResult(spec.role, ref.run.judge, shown, comparison=comparison)


def _with_error(result: BaselineResult, error: str) -> BaselineResult:
    return BaselineResult(result.role, result.judge, result.snapshot, error=error)


def _relative(location: str, root: Path) -> str:
    try:
        return str(Path(location).relative_to(root))
    except ValueError:
        return location
