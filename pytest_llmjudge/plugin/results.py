"""pytest glue of judge evaluations: items per (judge, case), and what the `llmjudge_result`
fixture (plugin.py) returns: a case's verdict, or a run against its baseline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from pytest_llmjudge.errors import ConfigError, DatasetError
from pytest_llmjudge.evaluation.baseline import baseline_item_id, baseline_spec
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import BaselineRef, CaseRef, JudgeRun, RunKey
from pytest_llmjudge.outputs.junit import case_properties
from pytest_llmjudge.plugin.collect import load_dataset, marker_spec, missing_reason, skipped_params
from pytest_llmjudge.plugin.judge_marker import MarkerSpec, judge_label, parse_marker
from pytest_llmjudge.plugin.markers import MARKER
from pytest_llmjudge.plugin.outputs import line_writer
from pytest_llmjudge.plugin.state import evals_of

if TYPE_CHECKING:
    from pytest_llmjudge.plugin.snapshots import BaselineResult

FIXTURE = "llmjudge_result"
SYRUPY_EXTRA = "pytest-llmjudge[baseline]"


def parametrize_results(metafunc: pytest.Metafunc, evals: EvalSession) -> None:
    """Items of an `llmjudge` test: one per (judge, case), then each run's baseline item."""
    spec = marker_spec(metafunc, MARKER, FIXTURE, "dataset=..., judges=[...]", parse_marker)
    params = []
    for dataset in spec.datasets:
        prefix = f"{dataset.label}-" if len(spec.datasets) > 1 else ""
        reason = missing_reason(dataset)
        if reason is not None:  # its runs are named as skipped in the summary and the report
            for judge in spec.judges:
                key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
                evals.register(JudgeRun(key, judge, dataset, spec.thresholds, skipped=reason))
            params += skipped_params(map(judge_label, spec.judges), dataset, reason)
            params += _skipped_baseline_params(metafunc, spec, dataset, prefix, reason)
            continue
        cases = load_dataset(dataset)
        for judge in spec.judges:
            key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
            repeat = evals.settings.repeat_for(spec.repeat)
            evals.register(
                JudgeRun(key, judge, dataset, spec.thresholds, total=len(cases), repeat=repeat)
            )
            params += [
                pytest.param(CaseRef(key, case), id=f"{key.judge}-{prefix}{case.id}")
                for case in cases
            ]
            params += _baseline_params(evals, spec, key, prefix)
    metafunc.parametrize(FIXTURE, params, indirect=True)


def _baseline_params(evals: EvalSession, spec: MarkerSpec, key: RunKey, prefix: str) -> list[Any]:
    """The run's baseline item, after its cases, when the marker asks for a baseline."""
    role = spec.baseline_role(key.judge)
    if role is None:
        return []
    labels = [judge_label(j) for j in spec.judges]
    ref = BaselineRef(key, baseline_spec(role, key.judge, labels, spec.require_better, prefix))
    evals.judge_run_of(key).baseline = ref.spec
    return [pytest.param(ref, id=baseline_item_id(key.judge, prefix))]


def _skipped_baseline_params(
    metafunc: pytest.Metafunc, spec: MarkerSpec, dataset: Dataset, prefix: str, reason: str
) -> list[Any]:
    """Skipped baseline items of a missing optional dataset: they keep its stored baselines
    from being reported (or deleted) as unused snapshots."""
    params = []
    for judge in spec.judges:
        key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
        role = spec.baseline_role(key.judge)
        if role is None:
            continue
        labels = [judge_label(j) for j in spec.judges]
        ref = BaselineRef(key, baseline_spec(role, key.judge, labels, spec.require_better, prefix))
        params.append(
            pytest.param(
                ref, id=baseline_item_id(key.judge, prefix), marks=pytest.mark.skip(reason=reason)
            )
        )
    return params


@dataclass(frozen=True)
class CaseResult:
    """A judge's verdict on one case, as a test item sees it."""

    case: Case
    judge: Judge | None  # None when it could not be set up
    label: str
    prediction: int | None
    reason: str
    error: str | None
    strict: bool
    verdicts: tuple[int | None, ...] = ()  # each repetition's, when the case was repeated

    @property
    def flaky(self) -> bool:
        """Whether the repetitions of a repeated case disagree."""
        return len({v for v in self.verdicts if v is not None}) > 1

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
            if self.reason:
                message += f": {self.reason}"
        else:
            message = (
                f"mismatch: target {self.case.target}, judge {self.label!r} said "
                f"{self.prediction}: {self.reason or '(no reason given)'}"
            )
        if self.verdicts:
            said = ", ".join("unscored" if v is None else str(v) for v in self.verdicts)
            message += f" (repetitions: {said})"
        miss(message, self.strict)


def miss(message: str, strict: bool) -> NoReturn:
    """Fail the item (strict) or xfail it with the judge's message, formatting no traceback.

    A mismatch is an outcome, not a bug in the test: the message says all there is, and pytest's
    traceback formatting (an AST parse of every frame's source) would cost milliseconds a case.
    """
    if strict:
        pytest.fail(message, pytrace=False)
    raise pytest.xfail.Exception(message, pytrace=False)


def item_result(request: pytest.FixtureRequest) -> CaseResult | BaselineResult:
    """The judge's verdict on this item's case (or its run vs its baseline), batched per run."""
    ref = getattr(request, "param", None)
    if not isinstance(ref, CaseRef | BaselineRef):
        raise ConfigError(
            f"{FIXTURE} is parametrized by @pytest.mark.{MARKER}(dataset=..., judges=[...])"
        )
    evals = evals_of(request.config)
    run = evals.judge_run_of(ref.run)
    if run.setup_error is not None:  # reported once, on the run's first item
        if isinstance(ref, BaselineRef):
            pytest.skip(f"judge {ref.run.judge}: {run.setup_error}")
        return _case_result(request, evals, ref, run, run.verdicts[ref.case.id])
    problem = None
    try:
        judge = _resolve_judge(request, run)
        if run.judge is None and not isinstance(run.judge_ref, Judge):  # a fixture's judge
            run.judge = judge  # known now: its run's estimate, before its batch starts
            for line in evals.estimate([run.key]):
                line_writer(request.config, "llmjudge estimate: ")(line)
        verdict = None if isinstance(ref, BaselineRef) else evals.verdict(ref, judge)
    except (ConfigError, DatasetError, pytest.FixtureLookupError) as exc:
        problem = setup_problem(exc, f"judge {ref.run.judge!r}")
    if problem is not None:  # outside the except: no chained traceback
        run.fail_setup(problem)
        if isinstance(ref, CaseRef):
            run.reported.add(ref.case.id)
        pytest.fail(f"{declared_at(request)}: {problem}", pytrace=False)
    if isinstance(ref, BaselineRef):  # the run's baseline item (its own errors are its own)
        result: BaselineResult = snapshot_glue().baseline_result(request, evals, ref, judge)
        return result
    if verdict is None:
        pytest.skip(f"judge {ref.run.judge}: {run.skipped}")
    return _case_result(request, evals, ref, run, verdict)


def _case_result(
    request: pytest.FixtureRequest, evals: EvalSession, ref: CaseRef, run: JudgeRun, verdict: Any
) -> CaseResult:
    run.reported.add(ref.case.id)
    if junit_enabled(request.config):
        request.node.user_properties.extend(
            case_properties(
                ref.run.judge,
                ref.run.dataset,
                ref.case.id,
                ref.case.target,
                verdict.prediction,
                verdict.reason,
                verdict.error,
                verdict.predictions if verdict.trials else (),
            )
        )
    return CaseResult(
        case=ref.case,
        judge=run.judge,
        label=ref.run.judge,
        prediction=verdict.prediction,
        reason=verdict.reason,
        error=verdict.error,
        strict=evals.settings.strict,
        verdicts=tuple(verdict.predictions) if verdict.trials else (),
    )


def setup_problem(exc: Exception, who: str) -> str:
    """`<who> could not be set up: <what went wrong>`, in one line."""
    if isinstance(exc, pytest.FixtureLookupError):
        what = f"no fixture named {exc.argname!r} (name Judge objects or fixtures that return one)"
    else:
        what = str(exc).removeprefix(f"{who}: ")
    return f"{who} could not be set up: {what}"


def declared_at(request: pytest.FixtureRequest) -> str:
    """file:line of the marked test function (its first decorator)."""
    code = request.function.__code__
    try:
        where = Path(code.co_filename).relative_to(request.config.rootpath)
    except ValueError:
        where = Path(code.co_filename)
    return f"{where}:{code.co_firstlineno}"


def junit_enabled(config: pytest.Config) -> bool:
    """Whether --junitxml is on: items record their JUnit XML properties only then."""
    return bool(getattr(config.option, "xmlpath", None))


def _resolve_judge(request: pytest.FixtureRequest, run: JudgeRun) -> Judge:
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


def snapshot_glue() -> ModuleType:
    """The syrupy glue (snapshots.py); a missing syrupy is an error that names the extra."""
    try:
        import pytest_llmjudge.plugin.snapshots as snapshots
    except ImportError as exc:  # pragma: no cover - syrupy is installed with the test extra
        if (exc.name or "").split(".")[0] != "syrupy":
            raise
        raise ConfigError(
            f"baselines are stored as syrupy snapshots: pip install '{SYRUPY_EXTRA}'"
        ) from None
    return snapshots
