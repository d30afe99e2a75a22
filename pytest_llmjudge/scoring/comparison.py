"""Paired comparison of a candidate judge with a baseline on the same cases (pure, no pytest).

Both judges answered the same case ids. A case is *fixed* when the baseline got it wrong and the
candidate right, *broken* the other way round. The exact McNemar test on the discordant pairs
(fixed vs broken) says whether the difference is more than noise. Gates:

* regression: the candidate fails when a metric drops by more than its tolerance, or when it is
  significantly worse (two-sided exact McNemar p < alpha, more broken than fixed);
* promotion (`require_better`): the candidate fails unless it is significantly better.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_llmjudge.errors import LLMJudgeError
from pytest_llmjudge.scoring.metrics import Metrics, compute_metrics
from pytest_llmjudge.scoring.policies import UnscoredPolicy
from pytest_llmjudge.scoring.stats import mcnemar_exact
from pytest_llmjudge.scoring.thresholds import DELTA_METRICS, Tolerance, merge_tolerances

Verdict = Literal["better", "worse", "no significant difference"]
_SHOWN_IDS = 10


@dataclass(frozen=True)
class PairedCase:
    """One side's answer on a case, as the comparison needs it."""

    id: str
    target: int
    prediction: int | None
    reason: str = ""
    digest: str | None = None  # the case's content (model/fingerprint.py), when recorded

    @property
    def correct(self) -> bool:
        """Whether the answer matches the target (an unscored case is wrong)."""
        return self.prediction == self.target

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairedCase:
        """From a snapshot's or a report's case entry."""
        return cls(
            id=str(data["id"]),
            target=int(data["target"]),
            prediction=data.get("prediction"),
            reason=data.get("reason") or "",
            digest=data.get("digest"),
        )


def baseline_cases(payload: dict[str, Any]) -> list[PairedCase]:
    """The cases of a stored baseline snapshot, or of one run of a JSON report."""
    return [PairedCase.from_dict(case) for case in payload.get("cases", [])]


@dataclass(frozen=True)
class Change:
    """A case the two judges disagree on correctness, with both reasons."""

    id: str
    target: int
    baseline_prediction: int | None
    candidate_prediction: int | None
    baseline_reason: str
    candidate_reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "target": self.target,
            "baseline_prediction": self.baseline_prediction,
            "candidate_prediction": self.candidate_prediction,
            "baseline_reason": self.baseline_reason,
            "candidate_reason": self.candidate_reason,
        }


class CaseMismatchError(LLMJudgeError):
    """A baseline recorded on other cases than the ones selected now (never compared silently)."""

    def __init__(
        self,
        baseline: str,
        missing: Sequence[str],
        extra: Sequence[str],
        changed: Sequence[str] = (),
        edited: Sequence[str] = (),
    ) -> None:
        self.baseline = baseline
        self.missing = list(missing)  # selected now, not in the baseline
        self.extra = list(extra)  # in the baseline, not selected now
        self.changed = list(changed)  # same id, another target
        self.edited = list(edited)  # same id and target, another document or summary
        parts = []
        if self.missing:
            parts.append(
                f"{len(self.missing)} selected case(s) are not in the baseline: "
                f"{_ids(self.missing)}"
            )
        if self.extra:
            parts.append(
                f"{len(self.extra)} baseline case(s) are not selected now: {_ids(self.extra)}"
            )
        if self.changed:
            parts.append(f"{len(self.changed)} case(s) changed target: {_ids(self.changed)}")
        if self.edited:
            parts.append(
                f"{len(self.edited)} case(s) edited (document or summary): {_ids(self.edited)}"
            )
        super().__init__(
            f"baseline {baseline!r} was recorded on other cases than the ones selected now; "
            + "; ".join(parts)
            + ". Select the same cases, or re-record the baseline with --snapshot-update."
        )


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return shown + (f", ... ({len(ids) - _SHOWN_IDS} more)" if len(ids) > _SHOWN_IDS else "")


def check_same_cases(
    baseline: Sequence[PairedCase], candidate: Sequence[PairedCase], baseline_label: str
) -> None:
    """Raise CaseMismatchError unless both sides hold the same case ids with the same targets
    and, where both recorded it, the same content."""
    base = {c.id: c for c in baseline}
    cand_ids = [c.id for c in candidate]
    missing = [i for i in cand_ids if i not in base]
    present = set(cand_ids)
    extra = [c.id for c in baseline if c.id not in present]
    changed = [c.id for c in candidate if c.id in base and base[c.id].target != c.target]
    edited = [
        c.id
        for c in candidate
        if c.id in base
        and base[c.id].target == c.target
        and None not in (c.digest, base[c.id].digest)
        and base[c.id].digest != c.digest
    ]
    if missing or extra or changed or edited:
        raise CaseMismatchError(baseline_label, missing, extra, changed, edited)


@dataclass(frozen=True)
class Comparison:
    """A candidate compared with a baseline on the same cases, and the gates it passed.

    Attributes:
        baseline: the baseline's name (its role).
        candidate: the candidate judge.
        n: paired cases.
        baseline_metrics, candidate_metrics: both sides' metrics under the same settings.
        deltas: candidate minus baseline, per metric.
        fixed: cases the baseline got wrong and the candidate right.
        broken: cases the baseline got right and the candidate wrong.
        p_value: two-sided exact McNemar p-value on fixed vs broken.
        alpha: the significance level.
        verdict: better, worse or no significant difference.
        failures: why a gate failed, one sentence each (empty when all pass).
        tolerances: the regression tolerances checked.
        require_better: whether the promotion gate was on.
        excluded: pairs left out because a side was unscored and unscored cases are excluded.
    """

    baseline: str
    candidate: str
    n: int
    baseline_metrics: Metrics
    candidate_metrics: Metrics
    deltas: dict[str, float | None]
    fixed: tuple[Change, ...]
    broken: tuple[Change, ...]
    p_value: float
    alpha: float
    verdict: Verdict
    failures: tuple[str, ...] = ()
    tolerances: tuple[Tolerance, ...] = ()
    require_better: bool = False
    excluded: int = 0
    baseline_judge: str | None = field(default=None)
    changed: tuple[str, ...] = ()  # what else differs from the baseline: prompt, model, ...

    @property
    def passed(self) -> bool:
        """Whether every comparison gate passed."""
        return not self.failures

    def why(self) -> str:
        """The verdict and the evidence for it, in one sentence."""
        sign = "<" if self.p_value < self.alpha else ">="
        return (
            f"{self.verdict}: {len(self.fixed)} fixed, {len(self.broken)} broken of {self.n} "
            f"paired cases, exact McNemar p = {self.p_value:.4g} {sign} alpha {self.alpha:g}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The `comparison` entry of a run in the JSON report."""
        return {
            "baseline": self.baseline,
            "baseline_judge": self.baseline_judge,
            "candidate": self.candidate,
            "verdict": self.verdict,
            "why": self.why(),
            "p_value": self.p_value,
            "alpha": self.alpha,
            "n": self.n,
            "excluded": self.excluded,
            "fixed": [c.id for c in self.fixed],
            "broken": [c.id for c in self.broken],
            "changes": [c.as_dict() for c in (*self.fixed, *self.broken)],
            "deltas": self.deltas,
            "baseline_metrics": self.baseline_metrics.model_dump(mode="json"),
            "tolerances": {t.metric: t.value for t in self.tolerances},
            "require_better": self.require_better,
            "passed": self.passed,
            "failures": list(self.failures),
            "changed_since_baseline": list(self.changed),
        }


def compare(
    baseline: Sequence[PairedCase],
    candidate: Sequence[PairedCase],
    *,
    baseline_label: str,
    candidate_label: str,
    alpha: float = 0.05,
    tolerances: Iterable[Tolerance] = (),
    require_better: bool = False,
    positive: int = 1,
    unscored: UnscoredPolicy = "wrong",
    baseline_judge: str | None = None,
    changed: Sequence[str] = (),
) -> Comparison:
    """Compare `candidate` with `baseline` case by case (`changed`: what differs besides the
    verdicts, named in the comparison); raises CaseMismatchError on other cases."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    check_same_cases(baseline, candidate, baseline_label)
    base = {c.id: c for c in baseline}
    pairs = [(base[c.id], c) for c in candidate]
    base_metrics = compute_metrics([(b.target, b.prediction) for b, _ in pairs], positive, unscored)
    cand_metrics = compute_metrics([(c.target, c.prediction) for _, c in pairs], positive, unscored)
    if unscored == "exclude":
        paired = [(b, c) for b, c in pairs if b.prediction is not None and c.prediction is not None]
    else:
        paired = pairs
    fixed = tuple(_change(b, c) for b, c in paired if not b.correct and c.correct)
    broken = tuple(_change(b, c) for b, c in paired if b.correct and not c.correct)
    p_value = mcnemar_exact(len(fixed), len(broken))
    verdict: Verdict = "no significant difference"
    if p_value < alpha:
        verdict = "better" if len(fixed) > len(broken) else "worse"
    deltas = {name: _delta(base_metrics, cand_metrics, name) for name in DELTA_METRICS}
    tolerances = merge_tolerances(tolerances)
    failures = []
    for tolerance in tolerances:
        before = base_metrics.value(tolerance.metric)
        after = cand_metrics.value(tolerance.metric)
        if before is None or after is None:
            side = "baseline" if before is None else "candidate"
            metrics = base_metrics if before is None else cand_metrics
            failures.append(
                f"{tolerance.metric}: the tolerance {tolerance.value:g} is unresolved, the "
                f"{side}'s {tolerance.metric} is undefined: {metrics.undefined(tolerance.metric)}"
            )
        elif before - after > tolerance.value + 1e-12:
            failures.append(
                f"{tolerance.metric} dropped by {before - after:.3f} ({before:.3f} -> "
                f"{after:.3f}), more than the tolerance {tolerance.value:g}"
            )
    if verdict == "worse":
        failures.append(
            f"significantly worse than the baseline: {len(broken)} broken vs {len(fixed)} fixed, "
            f"exact McNemar p = {p_value:.4g} < alpha {alpha:g}"
        )
    if require_better and verdict != "better":
        failures.append(
            f"promotion gate: not significantly better than the baseline ({len(fixed)} fixed vs "
            f"{len(broken)} broken, exact McNemar p = {p_value:.4g}, alpha {alpha:g})"
        )
    return Comparison(
        baseline=baseline_label,
        candidate=candidate_label,
        n=len(paired),
        baseline_metrics=base_metrics,
        candidate_metrics=cand_metrics,
        deltas=deltas,
        fixed=fixed,
        broken=broken,
        p_value=p_value,
        alpha=alpha,
        verdict=verdict,
        failures=tuple(failures),
        tolerances=tolerances,
        require_better=require_better,
        excluded=len(pairs) - len(paired),
        baseline_judge=baseline_judge,
        changed=tuple(changed),
    )


def _change(base: PairedCase, cand: PairedCase) -> Change:
    return Change(
        id=cand.id,
        target=cand.target,
        baseline_prediction=base.prediction,
        candidate_prediction=cand.prediction,
        baseline_reason=base.reason,
        candidate_reason=cand.reason,
    )


_SHOWN_CHANGES = 10


def baseline_cell(comparison: Comparison | None, error: str | None) -> str:
    """The gates-column cell of a run compared with a baseline."""
    if comparison is None:
        return "baseline FAILED (cases differ)" if error else "-"
    state = "ok" if comparison.passed else "FAILED"
    return f"vs {comparison.baseline}: {comparison.verdict} {state}"


def comparison_lines(
    judge: str, dataset: str, comparison: Comparison | None, error: str | None
) -> list[str]:
    """Summary lines of a run compared with its baseline: verdict and why, deltas, changed
    cases with both reasons, and the failed gates (lines starting with FAILED)."""
    where = f"judge {judge} on {dataset}"
    if comparison is None:
        return [f"FAILED baseline: {where}: {error}"] if error else []
    deltas = ", ".join(
        f"{name} {'n/a' if value is None else format(value, '+.3f')}"
        for name, value in comparison.deltas.items()
    )
    lines = [
        f"{where} vs baseline {comparison.baseline!r}: {comparison.why()}",
        f"  deltas (candidate - baseline): {deltas}",
    ]
    if comparison.changed:
        lines.append(f"  changed since the baseline: {'; '.join(comparison.changed)}")
    for kind, changes in (("fixed", comparison.fixed), ("broken", comparison.broken)):
        for change in changes[:_SHOWN_CHANGES]:
            lines.append(
                f"  {kind} {change.id} (target {change.target}): baseline said "
                f"{_said(change.baseline_prediction, change.baseline_reason)}; candidate said "
                f"{_said(change.candidate_prediction, change.candidate_reason)}"
            )
        if len(changes) > _SHOWN_CHANGES:
            lines.append(f"  ... {len(changes) - _SHOWN_CHANGES} more {kind} (see the report)")
    lines += [f"FAILED baseline gate: {where}: {failure}" for failure in comparison.failures]
    return lines


def _said(prediction: int | None, reason: str) -> str:
    answer = "unscored" if prediction is None else str(prediction)
    reason = " ".join(reason.split())
    if len(reason) > 80:
        reason = reason[:77] + "..."
    return f"{answer} ({reason})" if reason else answer


def _delta(baseline: Metrics, candidate: Metrics, name: str) -> float | None:
    """Candidate minus baseline on one metric; None when either side is undefined."""
    before, after = baseline.value(name), candidate.value(name)
    return None if before is None or after is None else after - before
