"""A generator run's data: its key, the items' parameter, its jobs and answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, field_validator

from pytest_llmjudge.model.gen_dataset import GenCase, GenDataset
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.correction import JudgeRates
from pytest_llmjudge.scoring.thresholds import Threshold
from pytest_llmjudge.secrets import redact

Relevancy = str | Judge | None  # "lexical", "judge", a Judge, a fixture name, or None (off)


@dataclass(frozen=True)
class Job:
    """One answer to write: a case and the index (1..samples) of the sample."""

    id: str
    case: GenCase
    sample: int

    @property
    def trial(self) -> str:
        """Its id within a batch of model calls (as `Case.trial`): the answer's id."""
        return self.id

    @property
    def repeat(self) -> int:
        """Always 0: a sample's index is in its own request (its random seed), not a repetition."""
        return 0


def answer_id(case_id: str, sample: int) -> str:
    """The id of one sampled answer: `<case id>#<sample>`."""
    return f"{case_id}#{sample}"


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
        cost: dollars its request cost (0.0 from the cache; None: unknown or no model call).
        cached: whether it came from the response cache.

    Its texts are masked of secrets as it is made, as a Verdict's are.
    """

    id: str
    case: str
    sample: int
    text: str | None = None
    error: str | None = None
    tokens: int | None = None
    latency_s: float = 0.0
    cost: float | None = None
    cached: bool = False

    @field_validator("text", "error")
    @classmethod
    def _masked(cls, text: str | None) -> str | None:
        return redact(text) if text else text

    def cause(self, verdict: Verdict | None) -> str | None:
        """Why the answer has no label: the judge's error, else the generation's (None: none)."""
        return (verdict.error if verdict else None) or self.error


@dataclass
class GenRun:
    """A generator evaluated at one sampling point on the selected cases of one dataset."""

    kind: ClassVar[Literal["generator"]] = "generator"

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
    judge_rates: JudgeRates | None = None  # given; else measured by the judge's runs, if any
    grid_point: dict[str, Any] = field(default_factory=dict)  # what the marker's grid sets
    own_samples: bool = False  # samples come from the generator (the marker sets none)
    cases: list[GenCase] = field(default_factory=list)  # the selected ones
    total: int = 0  # the cases the dataset declares (limit and sample applied), selected or not
    answers: dict[str, Answer] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    relevancy: dict[str, float] = field(default_factory=dict)
    # the judge's label of each statement (sentence) of an answer, by answer id (faithfulness)
    statements: dict[str, list[int | None]] = field(default_factory=dict)
    generator: Generator | None = None
    judge: Judge | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # model calls, by whose batches

    @property
    def label(self) -> str:
        """The run's name in the summary: its generator and sampling point."""
        return f"{self.key.generator} at {self.key.point}"

    def answer_ids(self, case: GenCase) -> list[str]:
        """The ids of a case's answers."""
        return [answer_id(case.id, k) for k in range(1, self.samples + 1)]

    def jobs(self, cases: list[GenCase]) -> list[Job]:
        """The answers to write for `cases`, `samples` per case."""
        return [Job(answer_id(c.id, k), c, k) for c in cases for k in range(1, self.samples + 1)]

    def errors(self) -> Iterator[str | None]:
        """The cause of every answer not written and every verdict unscored (None: fine)."""
        yield from (a.error for a in self.answers.values())
        yield from (v.error for v in self.verdicts.values())

    def has_outcomes(self) -> bool:
        """Whether any answer was judged."""
        return bool(self.verdicts)
