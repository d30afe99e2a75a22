"""EvalSession: the runs of a pytest session, their batches, results and exit status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .backends import create_backend
from .dataset import Case, Dataset
from .judge import Judge
from .metrics import Metrics, compute_metrics
from .runner import LoopThread, judge_batch
from .settings import Settings
from .thresholds import Threshold, merge, parse_threshold
from .verdict import Verdict


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


@dataclass
class Run:
    """A judge evaluated on the selected cases of one dataset."""

    key: RunKey
    judge_ref: Judge | str
    dataset: Dataset
    thresholds: tuple[Threshold, ...] = ()
    cases: list[Case] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    judge: Judge | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold checked against a run's metrics."""

    threshold: Threshold
    actual: float
    passed: bool


@dataclass(frozen=True)
class RunResult:
    """A finished run: its metrics and gates, with the verdicts they were computed from."""

    run: Run
    metrics: Metrics
    thresholds: tuple[ThresholdResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every threshold of the run passed."""
        return all(t.passed for t in self.thresholds)

    def judged_cases(self) -> list[tuple[Case, Verdict]]:
        """The cases that have a verdict, in dataset order."""
        return [(c, self.run.verdicts[c.id]) for c in self.run.cases if c.id in self.run.verdicts]


class EvalSession:
    """Holds every run of a session; runs each judge's batch once, then gates."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs: dict[RunKey, Run] = {}
        self.results: list[RunResult] = []
        self._loop = LoopThread()

    def register(
        self,
        key: RunKey,
        judge_ref: Judge | str,
        dataset: Dataset,
        thresholds: tuple[Threshold, ...],
    ) -> None:
        """Declare a run at collection time."""
        self.runs.setdefault(key, Run(key, judge_ref, dataset, thresholds))

    def select(self, refs: Iterable[CaseRef]) -> None:
        """Record the cases that survived selection (-k, --lf, --deselect), in item order."""
        for run in self.runs.values():
            run.cases = []
        for ref in refs:
            self.runs[ref.run].cases.append(ref.case)

    def verdict(self, ref: CaseRef, judge: Judge) -> Verdict | None:
        """The verdict for a case, running its judge's batch first if needed; None when skipped."""
        run = self.runs[ref.run]
        if run.judge is None:
            run.judge = judge
            self._judge(run, [c for c in run.cases if c.id not in run.verdicts])
        if run.skipped is not None:
            return None
        if ref.case.id not in run.verdicts:  # a case that was not in the selected batch
            self._judge(run, [ref.case])
            if ref.case not in run.cases:
                run.cases.append(ref.case)
        run.reported.add(ref.case.id)
        return run.verdicts[ref.case.id]

    def _judge(self, run: Run, cases: list[Case]) -> None:
        assert run.judge is not None
        backend = create_backend(run.judge, self.settings)
        run.notes.extend(backend.notes)
        reason = backend.unavailable()
        if reason is not None:
            run.skipped = reason
            return

        async def batch() -> dict[str, Verdict]:
            try:
                return await judge_batch(
                    backend, cases, self.settings.concurrency, on_verdict=_store(run)
                )
            finally:
                await backend.aclose()

        self._loop.run(batch())

    def close(self) -> None:
        """Stop the batch loop."""
        self._loop.close()

    def finish(self) -> int:
        """Compute every run's metrics and gates; 0 when all pass, else 1."""
        self.close()
        self.results = [self._result(run) for run in self.runs.values() if run.verdicts]
        return 0 if all(r.passed for r in self.results) else 1

    def publish(self) -> list[dict[str, Any]]:
        """What a pytest-xdist worker sends its controller: the verdicts of the items it ran."""
        return [
            {
                "key": [run.key.test, run.key.judge, run.key.dataset],
                "judge": run.judge.model_dump(mode="json") if run.judge else None,
                "dataset": run.dataset.model_dump(mode="json"),
                "thresholds": [str(t) for t in run.thresholds],
                "cases": [c.model_dump(mode="json") for c in run.cases],
                "verdicts": {
                    cid: v.model_dump(mode="json")
                    for cid, v in run.verdicts.items()
                    if cid in run.reported
                },
                "skipped": run.skipped,
                "notes": run.notes,
            }
            for run in self.runs.values()
            if run.reported or run.skipped
        ]

    def merge(self, published: list[dict[str, Any]]) -> None:
        """Merge a worker's published runs into this (controller) session."""
        for data in published:
            key = RunKey(*data["key"])
            run = self.runs.get(key)
            if run is None:
                judge = Judge.model_validate(data["judge"]) if data["judge"] else data["key"][1]
                run = self.runs[key] = Run(
                    key,
                    judge,
                    Dataset.model_validate(data["dataset"]),
                    tuple(parse_threshold(t) for t in data["thresholds"]),
                    cases=[Case.model_validate(c) for c in data["cases"]],
                )
                run.judge = judge if isinstance(judge, Judge) else None
            run.verdicts.update(
                (cid, Verdict.model_validate(v)) for cid, v in data["verdicts"].items()
            )
            run.skipped = run.skipped or data["skipped"]
            run.notes.extend(n for n in data["notes"] if n not in run.notes)

    def skipped_runs(self) -> list[Run]:
        """Runs that were skipped as a whole (e.g. a missing API key)."""
        return [run for run in self.runs.values() if run.skipped is not None and not run.verdicts]

    def _result(self, run: Run) -> RunResult:
        judged = [
            (c.target, run.verdicts[c.id].prediction) for c in run.cases if c.id in run.verdicts
        ]
        metrics = compute_metrics(judged, self.settings.positive, self.settings.unscored)
        # precedence: command line > marker > ini
        thresholds = merge(
            self.settings.ini_thresholds, run.thresholds, self.settings.cli_thresholds
        )
        checked = tuple(
            ThresholdResult(t, metrics.value(t.metric), t.check(metrics.value(t.metric)))
            for t in thresholds
            if t.applies_to(run.key.judge)
        )
        return RunResult(run, metrics, checked)


def _store(run: Run):  # type: ignore[no-untyped-def]
    def on_verdict(case: Case, verdict: Verdict) -> None:
        run.verdicts[case.id] = verdict

    return on_verdict
