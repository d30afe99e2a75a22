"""Repeated cases (repeat=N): each case judged N times, its verdict the majority of the N."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.consistency import agreement as shared_agreement

TIE = "tie"  # the cause of a repeated case whose verdicts split evenly


def repetitions(case: Case, repeat: int) -> Iterator[Case]:
    """The `repeat` repetitions of `case` (the first is the case itself, so that repeat=1 asks
    exactly what it asked before repeats existed, and raising N adds only new requests)."""
    yield case
    for k in range(1, repeat):
        yield case.model_copy(update={"repeat": k})


def majority(trials: Sequence[Verdict]) -> Verdict:
    """One verdict for a case judged len(trials) times: the label most repetitions gave (unscored
    ones do not vote), unscored with the cause `tie` on an even split and with the first
    repetition's cause when none was scored; the repetitions are kept in `trials`."""
    votes = Counter(t.prediction for t in trials if t.prediction is not None)
    common = votes.most_common()
    extra = {
        "trials": tuple(trials),
        "latency_s": sum(t.latency_s for t in trials),
        "tokens": _sum([t.tokens for t in trials]),
        "cost": _sum([t.cost for t in trials]),
        "cached": all(t.cached for t in trials),
    }
    if not common:
        first = trials[0]
        return Verdict.unscored(first.error or "no repetition was scored", raw=first.raw, **extra)
    if len(common) > 1 and common[0][1] == common[1][1]:
        said = ", ".join(f"{count} said {label}" for label, count in sorted(common))
        return Verdict.unscored(TIE, reason=f"the repetitions split evenly: {said}", **extra)
    label = common[0][0]
    chosen = next(t for t in trials if t.prediction == label)
    return Verdict(
        prediction=label, reason=chosen.reason, probability=_mean_probability(trials), **extra
    )


def agreement(verdict: Verdict) -> float | None:
    """The share of a repeated case's scored repetitions that agree with its most common label
    (None for a case judged once, or with fewer than two scored repetitions)."""
    return shared_agreement(verdict.predictions) if verdict.trials else None


def flaky(verdict: Verdict) -> bool | None:
    """Whether a repeated case's scored repetitions disagree (None for a case judged once)."""
    share = agreement(verdict)
    return None if share is None else share < 1.0


def _sum(values: Sequence[Any]) -> Any:
    """The sum of the repetitions' tokens or costs; None when one of them is unknown."""
    return None if any(v is None for v in values) else sum(values)


def _mean_probability(trials: Sequence[Verdict]) -> float | None:
    values = [t.probability for t in trials]
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None) / len(values)
