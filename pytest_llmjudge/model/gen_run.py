"""A generator run's data: its key, the items' parameter, answers, and its finished result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel

from pytest_llmjudge.backends.generators import answer_id
from pytest_llmjudge.model.gen_dataset import GenCase, GenDataset
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.comparison import Comparison
from pytest_llmjudge.scoring.gating import Gated, ThresholdResult, Unresolved, unresolved
from pytest_llmjudge.scoring.gen_metrics import GenMetrics
from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.scoring.thresholds import Threshold

Relevancy = str | Judge | None  # "lexical", "judge", a Judge, a fixture name, or None (off)


@dataclass(frozen=True)
class GenRunKey:
    """Identifies a generator run: one generator at one sampling point on one dataset."""

    test: str
    generator: str
    point: str
    dataset: str


@dataclass(frozen=True)
class AnswerRef:
    """The parameter of one test item: which run and which case."""

    run: GenRunKey
    case: GenCase


class Answer(BaseModel):
    """A generated answer (or the cause of its absence).

    Attributes:
        id: `<case id>#<sample>`. case: the case id. sample: 1..samples.
        text: the answer (None when generation failed). error: why it failed.
        tokens: tokens of the answer, when known. latency_s: seconds it took.
        cached: whether it came from the response cache.
    """

    id: str
    case: str
    sample: int
    text: str | None = None
    error: str | None = None
    tokens: int | None = None
    latency_s: float = 0.0
    cached: bool = False


@dataclass
class GenRun:
    """A generator evaluated at one sampling point on the selected cases of one dataset."""

    key: GenRunKey
    generator_ref: Generator | str
    judge_ref: Judge | str
    dataset: GenDataset
    sampling: Sampling
    samples: int
    thresholds: tuple[Threshold, ...] = ()
    relevancy_ref: Relevancy = "lexical"
    compare_with: str | None = None  # the baseline generator this run is compared with
    require_better: bool = False
    grid_point: dict[str, Any] = field(default_factory=dict)  # what the marker's grid sets
    own_samples: bool = False  # samples come from the generator (the marker sets none)
    cases: list[GenCase] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    relevancy: dict[str, float] = field(default_factory=dict)
    generator: Generator | None = None
    judge: Judge | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)

    def answer_ids(self, case: GenCase) -> list[str]:
        """The ids of a case's answers."""
        return [answer_id(case.id, k) for k in range(1, self.samples + 1)]


@dataclass(frozen=True)
class GenRunResult(Gated):
    """A finished generator run: metrics, gates and (for a candidate) its comparison."""

    run: GenRun
    metrics: GenMetrics
    thresholds: tuple[ThresholdResult, ...]
    comparison: Comparison | None = None
    comparison_error: str | None = None

    def unresolved(self) -> list[Unresolved]:
        """Thresholds the point estimate meets but too few answers to show it."""
        metrics = cast(Metrics, self.metrics)  # duck-typed: value / interval / denominator
        found = (unresolved(metrics, t.threshold) for t in self.thresholds)
        return [u for u in found if u is not None]

    def answered(self) -> list[tuple[GenCase, Answer, Verdict | None]]:
        """Every answer of the run with its judge verdict, in dataset order."""
        rows = []
        for case in self.run.cases:
            for aid in self.run.answer_ids(case):
                if aid in self.run.answers:
                    rows.append((case, self.run.answers[aid], self.run.verdicts.get(aid)))
        return rows
