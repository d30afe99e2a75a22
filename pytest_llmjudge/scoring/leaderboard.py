"""A leaderboard of the judges evaluated on one dataset: ranked on a metric, every pair compared
on the cases both judged (exact McNemar on per-case correctness), the p-values corrected for
multiplicity (Holm), and judges that cannot be told apart grouped.

Groups are tiers: walking down the ranking, a judge opens a new group when it is told apart from
the first judge of the current group; so every judge of a group is indistinguishable from the
group's leader (it may still be told apart from a later group's members).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from string import ascii_uppercase
from typing import Any

from pytest_llmjudge.scoring.stats import mcnemar_exact

# metrics a leaderboard can rank on; for those in LOWER_IS_BETTER the smallest value ranks first
RANK_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "specificity",
    "npv",
    "kappa",
    "mcc",
    "self_consistency",
    "flaky",
    "brier",
    "ece",
)
LOWER_IS_BETTER = frozenset({"flaky", "brier", "ece"})
DEFAULT_RANK_METRIC = "accuracy"


@dataclass(frozen=True)
class Entry:
    """One judge's run on the dataset: its value of the ranking metric (None: undefined), the
    metric's interval, and which of its cases it got right (case id -> correct)."""

    judge: str
    value: float | None
    interval: tuple[float, float] | None
    correct: Mapping[str, bool]


@dataclass(frozen=True)
class Pair:
    """Two judges compared on the cases both judged; `first` ranks above `second`."""

    first: str
    second: str
    cases: int
    only_first: int  # cases only `first` got right
    only_second: int
    p_value: float
    p_adjusted: float  # Holm-corrected over every pair of the leaderboard (or = p_value)
    distinct: bool  # p_adjusted < alpha: the two are told apart

    def as_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "cases": self.cases,
            "only_first": self.only_first,
            "only_second": self.only_second,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "distinct": self.distinct,
        }


@dataclass(frozen=True)
class Standing:
    """A judge's place: rank (1 first), value with interval, and its group's letter."""

    rank: int
    judge: str
    value: float | None
    interval: tuple[float, float] | None
    group: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "judge": self.judge,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "group": self.group,
        }


@dataclass(frozen=True)
class Leaderboard:
    """The judges of one dataset, ranked, with every pair compared."""

    dataset: str
    metric: str
    alpha: float
    correction: str  # "holm" or "none"
    standings: tuple[Standing, ...]
    pairs: tuple[Pair, ...]

    def pair(self, a: str, b: str) -> Pair:
        """The comparison of judges `a` and `b` (in either order)."""
        for p in self.pairs:
            if {p.first, p.second} == {a, b}:
                return p
        raise KeyError(f"no pair of {a!r} and {b!r} on {self.dataset!r}")

    @property
    def groups(self) -> dict[str, list[str]]:
        """The judges of each group, by letter, in rank order."""
        out: dict[str, list[str]] = {}
        for s in self.standings:
            out.setdefault(s.group, []).append(s.judge)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "metric": self.metric,
            "test": "exact McNemar on per-case correctness, cases judged by both",
            "alpha": self.alpha,
            "correction": self.correction,
            "standings": [s.as_dict() for s in self.standings],
            "groups": self.groups,
            "pairs": [p.as_dict() for p in self.pairs],
        }


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (monotone, capped at 1), in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p_values[i]))
        adjusted[i] = running
    return adjusted


def leaderboard(
    dataset: str,
    entries: Sequence[Entry],
    metric: str = DEFAULT_RANK_METRIC,
    alpha: float = 0.05,
    correct_for_multiplicity: bool = True,
) -> Leaderboard:
    """Rank `entries` on `metric` (undefined values last, ties by name) and compare every pair."""
    if metric not in RANK_METRICS:
        raise ValueError(
            f"cannot rank on {metric!r}; metrics to rank on: {', '.join(RANK_METRICS)}"
        )
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    ranked = sorted(entries, key=lambda e: (e.value is None, sign * (e.value or 0.0), e.judge))
    raw = [_compare(a, b) for a, b in combinations(ranked, 2)]
    adjusted = holm([p for *_, p in raw]) if correct_for_multiplicity else [p for *_, p in raw]
    pairs = tuple(
        Pair(a.judge, b.judge, n, only_a, only_b, p, q, q < alpha)
        for (a, b, n, only_a, only_b, p), q in zip(raw, adjusted, strict=True)
    )
    distinct = {(p.first, p.second): p.distinct for p in pairs}
    standings, leader, group = [], None, -1
    for rank, entry in enumerate(ranked, 1):
        if leader is None or distinct[(leader, entry.judge)]:
            leader, group = entry.judge, group + 1
        letter = ascii_uppercase[group % 26] * (group // 26 + 1)
        standings.append(Standing(rank, entry.judge, entry.value, entry.interval, letter))
    correction = "holm" if correct_for_multiplicity else "none"
    return Leaderboard(dataset, metric, alpha, correction, tuple(standings), pairs)


def _compare(a: Entry, b: Entry) -> tuple[Entry, Entry, int, int, int, float]:
    """Two judges on the cases both judged: how many, the discordant counts, McNemar's p."""
    shared = [cid for cid in a.correct if cid in b.correct]
    only_a = sum(1 for cid in shared if a.correct[cid] and not b.correct[cid])
    only_b = sum(1 for cid in shared if b.correct[cid] and not a.correct[cid])
    return a, b, len(shared), only_a, only_b, mcnemar_exact(only_a, only_b)
