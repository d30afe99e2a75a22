"""User-facing fixtures and the per-item result they return."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .dataset import Case
from .errors import ConfigError
from .judge import Judge
from .session import CaseRef, EvalSession

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
def llmjudge_result(request: pytest.FixtureRequest) -> CaseResult:
    """The judge's verdict on this item's case, predicted in one concurrent batch per run."""
    ref = getattr(request, "param", None)
    if not isinstance(ref, CaseRef):
        raise ConfigError(
            "llmjudge_result is parametrized by @pytest.mark.llmjudge(dataset=..., judges=[...])"
        )
    evals = request.config.stash[SESSION_KEY]
    run = evals.runs[ref.run]
    judge = run.judge_ref
    if isinstance(judge, str):
        try:
            judge = request.getfixturevalue(judge)
        except pytest.skip.Exception as exc:
            run.skipped = run.skipped or str(exc.msg)
            raise
        if not isinstance(judge, Judge):
            raise ConfigError(f"fixture {run.judge_ref!r} must return a Judge, got {judge!r}")
    verdict = evals.verdict(ref, judge)
    if verdict is None:
        pytest.skip(f"judge {ref.run.judge}: {run.skipped}")
    return CaseResult(
        case=ref.case,
        judge=judge,
        label=ref.run.judge,
        prediction=verdict.prediction,
        reason=verdict.reason,
        error=verdict.error,
        strict=evals.settings.strict,
    )
