"""Runs, the unit of evaluation: a judge on a dataset, or a generator at a sampling point.

Both kinds share what the orchestrator needs of a run (`key`, `label`, `dataset`, `thresholds`,
the selected `cases`, `skipped`, `notes`, `reported`, `errors()`); `Run` is either kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.gen_run import AnswerRef, GenRun, GenRunKey
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.thresholds import Threshold


@dataclass(frozen=True)
class BaselineSpec:
    """Which stored baseline a run is compared with.

    Attributes:
        role: the baseline's name: a judge name (baseline=True) or a role such as "production".
        records: whether this run's judge records the role's baseline with --snapshot-update
            (the judge named like the role, or the marker's only judge).
        require_better: the promotion gate: demand a significant improvement.
        prefix: "" or "<dataset>-" when the marker evaluates several datasets.
    """

    role: str
    records: bool
    require_better: bool = False
    prefix: str = ""

    @property
    def snapshot_index(self) -> str:
        """The snapshot's name inside the test's brackets: `<role>-[<dataset>-]baseline`."""
        return f"{self.role}-{self.prefix}baseline"

    def as_dict(self) -> dict[str, Any]:
        """JSON form (pytest-xdist workers send it to the controller)."""
        return asdict(self)


@dataclass(frozen=True)
class BaselineRef:
    """The parameter of a run's baseline item."""

    run: RunKey
    spec: BaselineSpec


@dataclass(frozen=True)
class RunKey:
    """Identifies a run: one judge on one dataset in one test function."""

    test: str
    judge: str
    dataset: str


@dataclass(frozen=True)
class CaseRef:
    """The parameter of one test item: which run and which case."""

    run: RunKey
    case: Case


RunKind = Literal["judge", "generator"]


@dataclass
class JudgeRun:
    """A judge evaluated on the selected cases of one dataset."""

    kind: ClassVar[RunKind] = "judge"

    key: RunKey
    judge_ref: Judge | str
    dataset: Dataset
    thresholds: tuple[Threshold, ...] = ()
    cases: list[Case] = field(default_factory=list)  # the selected ones
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    total: int = 0  # the cases the dataset declares (limit and sample applied), selected or not
    judge: Judge | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    baseline: BaselineSpec | None = None  # the stored baseline this run is compared with
    baseline_data: dict[str, Any] | None = None  # that baseline's snapshot, once read
    setup_error: str | None = None  # why its judge could not be set up (every case unscored)
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # model calls, by whose batches
    repeat: int = 1  # how many times each case is judged (its verdict: the majority)
    pending: dict[str, dict[int, Verdict]] = field(default_factory=dict)  # repetitions so far

    @property
    def label(self) -> str:
        """The run's name in the summary: its judge."""
        return self.key.judge

    def errors(self) -> Iterator[str | None]:
        """The cause of every unscored verdict (None for a scored one)."""
        return (v.error for v in self.verdicts.values())

    def has_outcomes(self) -> bool:
        """Whether anything was judged (a run with nothing to score has no result)."""
        return bool(self.verdicts)

    def fail_setup(self, cause: str) -> None:
        """Its judge could not be set up: every selected case not judged yet is unscored with
        `cause`, so the run reports it once and fails (it scored nothing)."""
        self.setup_error = self.setup_error or cause
        for case in self.cases:
            self.verdicts.setdefault(case.id, Verdict.unscored(self.setup_error))


Run = JudgeRun | GenRun  # the two kinds of run
Key = RunKey | GenRunKey
Ref = CaseRef | AnswerRef  # an item's parameter: which run, which case


def add_calls(run: Run, where: str, counts: Counter[str]) -> None:
    """Add one batch's model-call counts (cases, cached, requests, retries, rate_limited) to
    the run's, under `where` (e.g. "judge m on news"): one summary line each, however many
    batches or pytest-xdist workers the run took."""
    run.calls.setdefault(where, Counter()).update(counts)


def is_partial(run: Run) -> bool:
    """Whether only some of the run's cases were selected (-k, --lf, --deselect, node ids)."""
    return 0 < len(run.cases) < run.total


def merge_baseline(run: JudgeRun, data: dict[str, Any]) -> None:
    """Take a worker's baseline spec and snapshot into a run (pytest-xdist controller)."""
    if run.baseline is None and data.get("baseline"):
        run.baseline = BaselineSpec(**data["baseline"])
    if run.baseline_data is None:
        run.baseline_data = data.get("baseline_data")
