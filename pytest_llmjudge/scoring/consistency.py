"""Self-consistency of repeated judgements: how often a case's repetitions disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_llmjudge.scoring.stats import wilson_interval, wilson_interval_proportion


def agreement(labels: Sequence[int | None]) -> float | None:
    """The share of the scored labels that agree with the most common one (None with fewer
    than two scored labels: one label agrees with nothing)."""
    votes = Counter(label for label in labels if label is not None)
    scored = sum(votes.values())
    return max(votes.values()) / scored if scored >= 2 else None


@dataclass(frozen=True)
class Consistency:
    """How consistent a run's repeated cases were.

    Attributes:
        cases: cases with at least two scored repetitions (the others cannot disagree).
        flaky: the share of those whose repetitions disagree, with its Wilson interval.
        self_consistency: their mean agreement, with a Wilson interval over `cases` (an
            agreement lies in [0.5, 1], so the binomial variance bounds its own).
    """

    cases: int
    flaky: float | None
    flaky_ci: tuple[float, float] | None
    self_consistency: float | None
    self_consistency_ci: tuple[float, float] | None


def consistency(groups: Sequence[Sequence[int | None]], confidence: float) -> Consistency:
    """The consistency of cases whose labels (one per repetition or sample) are `groups`."""
    shares = [share for labels in groups if (share := agreement(labels)) is not None]
    n = len(shares)
    if not n:
        return Consistency(0, None, None, None, None)
    flaky = sum(1 for share in shares if share < 1.0)
    mean = sum(shares) / n
    return Consistency(
        cases=n,
        flaky=flaky / n,
        flaky_ci=wilson_interval(flaky, n, confidence),
        self_consistency=mean,
        self_consistency_ci=wilson_interval_proportion(mean, n, confidence),
    )
