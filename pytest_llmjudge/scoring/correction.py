"""A generator's hallucination rate corrected for its judge's own errors (Rogan-Gladen).

An imperfect judge biases the raw rate: it misses some hallucinations (sensitivity < 1) and
flags some faithful answers (specificity < 1). With the judge's sensitivity `se` (the share of
truly inconsistent answers it labels inconsistent) and specificity `sp` (the share of consistent
ones it labels consistent), measured on labelled cases, the true rate is

    corrected = (raw + sp - 1) / (se + sp - 1),     clipped to [0, 1].

Its interval carries three sampling errors: the answers' (raw), and the judge's on its labelled
inconsistent and consistent cases (se, sp), combined by the delta method on proportions
adjusted as Agresti-Coull does (Lang and Reiczigel, 2014), so that it stays sane at 0 and 1. A
rate given without counts is taken as known exactly. Pure: no I/O, no pytest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_llmjudge.scoring.stats import z_value


@dataclass(frozen=True)
class JudgeRates:
    """A judge's measured error rates on hallucination, with the counts they come from.

    Attributes:
        sensitivity: labelled-inconsistent cases the judge called inconsistent.
        specificity: labelled-consistent cases the judge called consistent.
        inconsistent, consistent: how many labelled cases each was measured on (None: the rate
            is taken as exact).
        source: where the rates come from, for the report ("judge local on news-dev", "given").
    """

    sensitivity: float
    specificity: float
    inconsistent: int | None = None
    consistent: int | None = None
    source: str = "given"

    def __post_init__(self) -> None:
        for name in ("sensitivity", "specificity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")

    @property
    def informative(self) -> bool:
        """Whether the judge tells the classes apart at all (se + sp > 1): else no correction."""
        return self.sensitivity + self.specificity > 1.0


@dataclass(frozen=True)
class Corrected:
    """The corrected rate and its interval (None when the judge is no better than chance)."""

    rate: float | None
    interval: tuple[float, float] | None


def _adjusted(p: float, n: int | None, z: float) -> tuple[float, float]:
    """A proportion and its variance, Agresti-Coull adjusted (variance 0 when n is unknown)."""
    if n is None:
        return p, 0.0
    k = p * n
    n_adj = n + z * z
    p_adj = (k + z * z / 2) / n_adj
    return p_adj, p_adj * (1 - p_adj) / n_adj


def rogan_gladen(
    hallucinated: int, answers: int, rates: JudgeRates, confidence: float = 0.95
) -> Corrected:
    """The corrected hallucination rate of `hallucinated` out of `answers` judged answers."""
    if answers == 0 or not rates.informative:
        return Corrected(None, None)
    z = z_value(confidence)
    raw = hallucinated / answers
    se, sp = rates.sensitivity, rates.specificity
    point = min(1.0, max(0.0, (raw + sp - 1) / (se + sp - 1)))
    raw_a, var_raw = _adjusted(raw, answers, z)
    se_a, var_se = _adjusted(se, rates.inconsistent, z)
    sp_a, var_sp = _adjusted(sp, rates.consistent, z)
    youden = se_a + sp_a - 1
    if youden <= 0:
        return Corrected(point, (0.0, 1.0))
    centre = (raw_a + sp_a - 1) / youden
    variance = (var_raw + centre**2 * var_se + (1 - centre) ** 2 * var_sp) / youden**2
    half = z * math.sqrt(variance)
    low, high = min(point, centre - half), max(point, centre + half)  # it holds the estimate
    return Corrected(point, (max(0.0, low), min(1.0, high)))
