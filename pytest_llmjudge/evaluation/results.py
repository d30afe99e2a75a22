"""A finished run of either kind: its metrics, its gates and its comparison with a baseline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pytest_llmjudge.errors import unknown
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.fingerprint import (
    case_digest,
    changes,
    judge_fingerprint,
    run_fingerprint,
)
from pytest_llmjudge.model.gen_dataset import GenCase
from pytest_llmjudge.model.gen_run import Answer, GenRun, GenRunKey
from pytest_llmjudge.model.runs import JudgeRun, Key, Run, is_partial
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.comparison import (
    CaseMismatchError,
    Comparison,
    PairedCase,
    baseline_cases,
    compare,
)
from pytest_llmjudge.scoring.correction import JudgeRates
from pytest_llmjudge.scoring.cost import Costed, RunCost, run_cost
from pytest_llmjudge.scoring.gating import (
    Gated,
    ThresholdResult,
    Unresolved,
    check_threshold,
    unresolved,
)
from pytest_llmjudge.scoring.gen_metrics import (
    GenMetrics,
    Outcome,
    compute_gen_metrics,
    corrected,
    words,
)
from pytest_llmjudge.scoring.metrics import Metrics, compute_metrics
from pytest_llmjudge.scoring.policies import GateOn
from pytest_llmjudge.scoring.thresholds import (
    GENERATOR_METRICS,
    JUDGE_METRICS,
    Threshold,
    check_scopes,
    check_slices,
    merge,
)
from pytest_llmjudge.settings import Settings

SERVER_BACKENDS = ("mistral",)  # backends whose calls a server bills (calls/prices.py)


@dataclass(frozen=True)
class RunResult(Gated):
    """A finished run (judge or generator): metrics and gates, with what they were computed from."""

    run: Run
    metrics: Metrics | GenMetrics
    thresholds: tuple[ThresholdResult, ...]
    comparison: Comparison | None = None
    comparison_error: str | None = None
    applied: bool = True  # False: a partly selected run, its gates reported only
    slices: Mapping[str, Metrics | GenMetrics] = field(default_factory=dict)  # by "key=value"
    fingerprint: Mapping[str, Any] = field(default_factory=dict)  # model/fingerprint.py

    def metrics_for(self, threshold: Threshold) -> Metrics | GenMetrics | None:
        """The metrics a threshold is checked on: the run's, or its slice's (None: no such
        slice)."""
        return self.metrics if threshold.slice is None else self.slices.get(threshold.slice)

    @property
    def gates_applied(self) -> bool:
        return self.applied

    @property
    def partial(self) -> bool:
        """Whether only some of the run's cases were selected."""
        return is_partial(self.run)

    @property
    def nothing_scored(self) -> str | None:
        """Why a run that judged cases scored none of them (its commonest cause), else None."""
        n = self.metrics.n
        if n == 0 or self.metrics.scored > 0:
            return None
        causes = Counter(e for e in self.run.errors() if e)
        cause, count = causes.most_common(1)[0] if causes else ("no cause recorded", n)
        return f"scored nothing: {count} of {n} unscored with the cause {cause!r}"

    @property
    def kind(self) -> str:
        """ "judge" or "generator"."""
        return self.run.kind

    def unresolved(self) -> list[Unresolved]:
        """Thresholds the point estimate meets but too few cases to show it."""
        found = []
        for checked in self.thresholds:
            # both kinds of metrics have value / interval / denominator
            metrics = cast(Metrics | None, self.metrics_for(checked.threshold))
            if metrics is not None:
                found.append(unresolved(metrics, checked.threshold))
        return [u for u in found if u is not None]

    @property
    def calls_a_server(self) -> bool:
        """Whether the run's judge (or generator) calls a model server, which bills it."""
        run = self.run
        models = [run.judge] if isinstance(run, JudgeRun) else [run.generator, run.judge]
        return any(m is not None and m.backend in SERVER_BACKENDS for m in models)

    @property
    def cost(self) -> RunCost | None:
        """What the run's calls to a model server cost (a generator run: its answers and their
        verdicts); None when it made none (local, in-process and function judges)."""
        if not self.calls_a_server:
            return None
        if isinstance(self.run, JudgeRun):
            return run_cost((v, v.prediction == c.target) for c, v in self.judged_cases())
        calls: list[tuple[Costed, bool | None]] = []
        for _, answer, verdict in self.answered():
            calls.append((answer, None))
            if verdict is not None:
                calls.append((verdict, None))
        return run_cost(calls)

    def judged_cases(self) -> list[tuple[Case, Verdict]]:
        """A judge run's cases that have a verdict, in dataset order."""
        run = cast(JudgeRun, self.run)
        return [(c, run.verdicts[c.id]) for c in run.cases if c.id in run.verdicts]

    def answered(self) -> list[tuple[GenCase, Answer, Verdict | None]]:
        """A generator run's answers with their judge verdicts, in dataset order."""
        run = cast(GenRun, self.run)
        return [
            (case, run.answers[aid], run.verdicts.get(aid))
            for case in run.cases
            for aid in run.answer_ids(case)
            if aid in run.answers
        ]


def subject(run: Run) -> str:
    """The name a threshold scopes a run by: its judge's, or its generator's."""
    return run.key.judge if isinstance(run, JudgeRun) else run.key.generator


def applicable(settings: Settings, run: Run) -> tuple[Threshold, ...]:
    """The thresholds that gate `run`: command line > marker > ini, on the run's own metrics and
    its judge or generator name."""
    layers = merge(settings.ini_thresholds, run.thresholds, settings.cli_thresholds)
    names = JUDGE_METRICS if isinstance(run, JudgeRun) else GENERATOR_METRICS
    fields = run.dataset.slice_by  # a slice's threshold gates the runs of datasets sliced so
    return tuple(
        t
        for t in layers
        if t.metric in names
        and t.applies_to(subject(run))
        and (t.slice_field is None or t.slice_field in fields)
    )


def check_session_scopes(runs: Iterable[Run], settings: Settings) -> None:
    """Raise ConfigError for a command-line or ini threshold scoped to a name no run has, or to
    a slice by a key no run's dataset slices by."""
    runs = list(runs)
    known = {subject(run) for run in runs}
    fields = {key for run in runs for key in run.dataset.slice_by}
    for layer, where in (
        (settings.cli_thresholds, "--llmjudge-threshold"),
        (settings.ini_thresholds, "ini llmjudge_thresholds"),
    ):
        check_scopes(layer, known, where)
        check_slices(layer, fields, where)


def finish_run(run: Run, settings: Settings, runs: Mapping[Key, Run]) -> RunResult:
    """The result of a run of either kind (`runs`: the session's, where a generator run finds
    its baseline generator's run)."""
    metrics = run_metrics(run, settings, run.cases)
    slices = {name: run_metrics(run, settings, cases) for name, cases in sliced(run.cases)}
    if isinstance(run, GenRun):  # its rates corrected for its judge's measured errors
        rates = run.judge_rates or measured_rates(run, runs)
        metrics = corrected(cast(GenMetrics, metrics), rates)
        slices = {name: corrected(cast(GenMetrics, m), rates) for name, m in slices.items()}
    gate_on = settings.gates.gate_on
    checked = tuple(_check(t, metrics, slices, gate_on) for t in applicable(settings, run))
    comparison, error = None, None
    try:
        if isinstance(run, JudgeRun):
            comparison = compare_with_baseline(run, settings)
        else:
            comparison = compare_generators(run, settings, runs)
    except (CaseMismatchError, LookupError) as exc:
        error = str(exc)
    applied = settings.gates.gate_partial or not is_partial(run)
    fingerprint = run_fingerprint(run)
    return RunResult(run, metrics, checked, comparison, error, applied, slices, fingerprint)


def _check(
    threshold: Threshold,
    metrics: Metrics | GenMetrics,
    slices: Mapping[str, Metrics | GenMetrics],
    gate_on: GateOn,
) -> ThresholdResult:
    """A threshold checked on the run's metrics or its slice's; a slice no case is in fails,
    naming the slices there are."""
    if threshold.slice is not None:
        if threshold.slice not in slices:
            why = f"no case is in it: {unknown('slice', threshold.slice, slices)}"
            return ThresholdResult(threshold, None, False, None, "point", why)
        metrics = slices[threshold.slice]
    return check_threshold(cast(Metrics, metrics), threshold, gate_on)


def measured_rates(run: GenRun, runs: Mapping[Key, Run]) -> JudgeRates | None:
    """The sensitivity and specificity on hallucination of a generator run's judge, from that
    judge's runs on labelled cases in the session (pooled; scored cases only), or None."""
    name = run.judge.name if run.judge is not None else str(run.judge_ref)
    judged = [
        (case.target, verdict.prediction, other.key.dataset)
        for other in runs.values()
        if isinstance(other, JudgeRun) and other.key.judge == name
        for case in other.cases
        if (verdict := other.verdicts.get(case.id)) is not None and verdict.scored
    ]
    inconsistent = [p for t, p, _ in judged if t == 0]
    consistent = [p for t, p, _ in judged if t == 1]
    if not inconsistent or not consistent:
        return None
    datasets = ", ".join(dict.fromkeys(d for _, _, d in judged))
    return JudgeRates(
        sensitivity=inconsistent.count(0) / len(inconsistent),
        specificity=consistent.count(1) / len(consistent),
        inconsistent=len(inconsistent),
        consistent=len(consistent),
        source=f"judge {name} on {datasets}",
    )


C = TypeVar("C", Case, GenCase)


def sliced(cases: list[C]) -> list[tuple[str, list[C]]]:
    """The cases of each slice (`key=value`), slices in the order the cases first name them."""
    groups: dict[str, list[C]] = {}
    for case in cases:
        for name in case.slices:
            groups.setdefault(name, []).append(case)
    return list(groups.items())


def run_metrics(run: Run, settings: Settings, cases: list[Any]) -> Metrics | GenMetrics:
    """The metrics of some of a run's cases (all of them, or a slice's)."""
    if isinstance(run, JudgeRun):
        return judge_metrics(run, settings, cases)
    return gen_metrics(run, settings, cases)


def probability_pairs(judged: Iterable[tuple[Case, Verdict]]) -> list[tuple[float, int]]:
    """(probability of 1, target) of the scored verdicts that have a probability: what a judge's
    calibration is computed from."""
    return [(v.probability, c.target) for c, v in judged if v.probability is not None and v.scored]


def judge_metrics(run: JudgeRun, settings: Settings, cases: list[Case]) -> Metrics:
    verdicts = [(c, run.verdicts[c.id]) for c in cases if c.id in run.verdicts]
    judged = [(c.target, v.prediction) for c, v in verdicts]
    repetitions = [v.predictions for _, v in verdicts] if run.repeat > 1 else ()
    probabilities = probability_pairs(verdicts)
    return compute_metrics(
        judged, settings.positive, settings.unscored, repetitions, run.repeat, probabilities
    )


def gen_metrics(run: GenRun, settings: Settings, cases: list[GenCase]) -> GenMetrics:
    outcomes = []
    groups = []
    for case in cases:
        groups.append([v.prediction for a in run.answer_ids(case) if (v := run.verdicts.get(a))])
        for aid in run.answer_ids(case):
            if aid not in run.verdicts:
                continue
            answer = run.answers.get(aid)
            text = answer.text if answer else None
            outcomes.append(
                Outcome(
                    prediction=run.verdicts[aid].prediction,
                    words=words(text) if text else None,
                    tokens=answer.tokens if answer and text else None,
                    relevancy=run.relevancy.get(aid),
                    statements=_statement_labels(run, aid, text),
                )
            )
    judged = sum(1 for c in cases if run.answer_ids(c)[0] in run.verdicts)
    return compute_gen_metrics(outcomes, judged, run.samples, settings.unscored, groups)


def _statement_labels(run: GenRun, aid: str, text: str | None) -> tuple[int | None, ...] | None:
    """The labels of an answer's statements (None: judged whole, one statement or no answer)."""
    labels = run.statements.get(aid) if text else None
    return tuple(labels) if labels else None


def _require_better(marker: bool, settings: Settings) -> bool:
    """Precedence: command line > marker."""
    cli = settings.gates.require_better
    return marker if cli is None else cli


def compare_with_baseline(run: JudgeRun, settings: Settings) -> Comparison | None:
    """A judge run compared with its stored baseline (None when it has none); raises
    CaseMismatchError when the baseline holds other cases than the selected ones."""
    if run.baseline is None or run.baseline_data is None:
        return None
    judged = [(c, run.verdicts[c.id]) for c in run.cases if c.id in run.verdicts]
    # an unscored case's reason is its cause, as in the stored baseline
    candidate = [
        PairedCase(c.id, c.target, v.prediction, v.reason or v.error or "", case_digest(c))
        for c, v in judged
    ]
    now = judge_fingerprint(run.judge, [c for c, _ in judged], run.repeat)
    gates = settings.gates
    return compare(
        baseline_cases(run.baseline_data),
        candidate,
        baseline_label=run.baseline.role,
        candidate_label=run.key.judge,
        alpha=gates.alpha,
        tolerances=gates.tolerances,
        require_better=_require_better(run.baseline.require_better, settings),
        positive=settings.positive,
        unscored=settings.unscored,
        baseline_judge=run.baseline_data.get("judge"),
        changed=changes(run.baseline_data.get("fingerprint"), now),
    )


def compare_generators(
    run: GenRun, settings: Settings, runs: Mapping[Key, Run]
) -> Comparison | None:
    """A generator run compared with its baseline generator's run at the same sampling point
    (same cases, same judge): a case flips when one side's answer is judged consistent and the
    other's not; exact McNemar on the flips."""
    if run.compare_with is None:
        return None
    base = runs.get(GenRunKey(run.key.test, run.compare_with, run.key.point, run.key.dataset))
    if not isinstance(base, GenRun) or not base.verdicts:
        raise LookupError(
            f"no answers of the baseline generator {run.compare_with!r} at "
            f"{run.key.point} on {run.key.dataset} to compare with (was it deselected?)"
        )
    return compare(
        paired_answers(base),
        paired_answers(run),
        baseline_label=run.compare_with,
        candidate_label=run.key.generator,
        alpha=settings.gates.alpha,
        require_better=_require_better(run.require_better, settings),
        unscored=settings.unscored,
        baseline_judge=base.judge.name if base.judge else None,
    )


def paired_answers(run: GenRun) -> list[PairedCase]:
    """A run's answers as paired cases: target 1, 'correct' when judged consistent."""
    return [
        PairedCase(aid, 1, v.prediction, v.reason or v.error or "")
        for case in run.cases
        for aid in run.answer_ids(case)
        if (v := run.verdicts.get(aid)) is not None
    ]
