"""What a run's model calls cost: dollars and tokens spent, per case and per correct verdict.

`spent` is what this session paid (a cached answer costs nothing); it is None, unknown, when a
call's price or token split is unknown, never 0. A run with no model call has no cost at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Costed(Protocol):
    """A verdict or an answer: what its call cost and used."""

    cost: float | None
    tokens: int | None
    cached: bool


@dataclass(frozen=True)
class RunCost:
    """The money and tokens of one run's calls."""

    spent: float | None  # dollars; None: unknown
    tokens: int | None  # tokens of the calls sent (None: unknown)
    cases: int  # cases (or answers) costed
    correct: int | None  # correct verdicts (None: a generator run's answers)
    cached: int  # of them from the cache (cost 0)

    @property
    def per_case(self) -> float | None:
        return None if self.spent is None or not self.cases else self.spent / self.cases

    @property
    def per_correct(self) -> float | None:
        """Dollars per correct verdict (None: unknown, or nothing was right)."""
        if self.spent is None or not self.correct:
            return None
        return self.spent / self.correct

    def as_dict(self) -> dict[str, Any]:
        return {
            "spent": self.spent,
            "tokens": self.tokens,
            "cases": self.cases,
            "cached": self.cached,
            "per_case": self.per_case,
            "correct": self.correct,
            "per_correct_verdict": self.per_correct,
        }


def run_cost(items: Iterable[tuple[Costed, bool | None]]) -> RunCost | None:
    """The cost of `(verdict or answer, correct)` pairs (`correct` None when not a verdict);
    None when none came from a model call (no cost and no tokens: a local or function judge)."""
    pairs = list(items)
    if not any(c.cost is not None or c.tokens is not None for c, _ in pairs):
        return None
    sent = [c for c, _ in pairs if not c.cached]
    costs = [c.cost for c, _ in pairs]
    tokens = [c.tokens for c in sent]
    flags = [ok for _, ok in pairs]
    return RunCost(
        spent=None if any(v is None for v in costs) else sum(v for v in costs if v is not None),
        tokens=None if any(t is None for t in tokens) else sum(t for t in tokens if t is not None),
        cases=len(pairs),
        correct=None if any(ok is None for ok in flags) else sum(1 for ok in flags if ok),
        cached=len(pairs) - len(sent),
    )


def dollars(value: float | None) -> str:
    """'$0.0123' (four significant digits for small sums); 'unknown' for None."""
    if value is None:
        return "unknown"
    return f"${value:.2f}" if value >= 100 else f"${value:.4g}"
