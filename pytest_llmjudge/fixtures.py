"""User-facing fixtures and the per-item result they return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .baseline import BaselineRef, snapshot_glue
from .dataset import Case
from .errors import ConfigError
from .judge import Judge
from .junit import case_properties
from .session import CaseRef, EvalSession, Run

if TYPE_CHECKING:
    from .snapshots import BaselineResult

SESSION_KEY = pytest.StashKey[EvalSession]()


@dataclass(frozen=True)
class CaseResult:
    """A judge's verdict on one case, as a test item sees it."""

    case: Case
    judge: Judge
    label: str
    prediction: int | None
    reason: str
    error: str | None
    strict: bool

    @property
    def correct(self) -> bool:
        """Whether the judge's answer matches the target."""
        return self.prediction == self.case.target

    def check(self) -> None:
        """Pass on a match; xfail a mismatch or unscored case (fail it with --llmjudge-strict)."""
        if self.correct:
            return
        if self.prediction is None:
            message = f"unscored: {self.error}"
        else:
            message = (
                f"mismatch: target {self.case.target}, judge {self.label!r} said "
                f"{self.prediction}: {self.reason or '(no reason given)'}"
            )
        if self.strict:
            pytest.fail(message, pytrace=False)
        pytest.xfail(message)


@pytest.fixture
def llmjudge_result(request: pytest.FixtureRequest) -> CaseResult | BaselineResult:
    """The judge's verdict on this item's case (or its run vs its baseline), batched per run."""
    ref = getattr(request, "param", None)
    if not isinstance(ref, CaseRef | BaselineRef):
        raise ConfigError(
            "llmjudge_result is parametrized by @pytest.mark.llmjudge(dataset=..., judges=[...])"
        )
    evals = request.config.stash[SESSION_KEY]
    run = evals.runs[ref.run]
    judge = _resolve_judge(request, run)
    if isinstance(ref, BaselineRef):  # the run's baseline item
        result: BaselineResult = snapshot_glue().baseline_result(request, evals, ref, judge)
        return result
    verdict = evals.verdict(ref, judge)
    if verdict is None:
        pytest.skip(f"judge {ref.run.judge}: {run.skipped}")
    if getattr(request.config.option, "xmlpath", None):  # JUnit XML properties, --junitxml only
        request.node.user_properties.extend(
            case_properties(
                ref.run.judge,
                ref.run.dataset,
                ref.case.id,
                ref.case.target,
                verdict.prediction,
                verdict.reason,
                verdict.error,
            )
        )
    return CaseResult(
        case=ref.case,
        judge=judge,
        label=ref.run.judge,
        prediction=verdict.prediction,
        reason=verdict.reason,
        error=verdict.error,
        strict=evals.settings.strict,
    )


def _resolve_judge(request: pytest.FixtureRequest, run: Run) -> Judge:
    """The run's Judge, from the marker or from the fixture it names."""
    judge: Judge = resolve_ref(request, run, run.judge_ref, Judge, "a Judge")
    return judge


def resolve_ref(request: pytest.FixtureRequest, run: Any, ref: Any, kind: type, what: str) -> Any:
    """`ref` itself when it is a `kind`, else the value of the fixture it names; a fixture that
    skips marks the run skipped with its reason."""
    if isinstance(ref, kind):
        return ref
    try:
        value = request.getfixturevalue(ref)
    except pytest.skip.Exception as exc:
        run.skipped = run.skipped or str(exc.msg)
        raise
    if not isinstance(value, kind):
        raise ConfigError(f"fixture {ref!r} must return {what}, got {value!r}")
    return value
