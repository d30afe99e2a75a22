"""How scoring counts what it cannot score, and what a gate checks: the choices users make."""

from __future__ import annotations

from typing import Literal

UnscoredPolicy = Literal["wrong", "exclude"]  # an unscored case counts as wrong, or not at all
UNSCORED_CHOICES: tuple[UnscoredPolicy, ...] = ("wrong", "exclude")
GateOn = Literal["point", "lower-bound"]  # a threshold checks the point estimate, or a bound
GATE_ON_CHOICES: tuple[GateOn, ...] = ("point", "lower-bound")
