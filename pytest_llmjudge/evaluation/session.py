"""EvalSession: the runs of a pytest session, their batches, results and exit status."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.calls.budget import is_budget_cause
from pytest_llmjudge.calls.loop import LoopThread, judge_batch
from pytest_llmjudge.calls.protocol import is_model_backend
from pytest_llmjudge.calls.reliable import CallContext, CallRunner, estimate_lines
from pytest_llmjudge.evaluation.generators import GenSession
from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import CaseRef, Run, RunKey, merge_baseline
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.outputs.progress import BatchProgress
from pytest_llmjudge.scoring.comparison import (
    CaseMismatchError,
    Comparison,
    PairedCase,
    baseline_cases,
    compare,
)
from pytest_llmjudge.scoring.gating import (
    Gated,
    ThresholdResult,
    Unresolved,
    check_thresholds,
    unresolved,
)
from pytest_llmjudge.scoring.metrics import Metrics, compute_metrics
from pytest_llmjudge.scoring.thresholds import JUDGE_METRICS, Threshold, merge, parse_threshold
from pytest_llmjudge.settings import Settings


@dataclass(frozen=True)
class RunResult(Gated):
    """A finished run: its metrics and gates, with the verdicts they were computed from."""

    run: Run
    metrics: Metrics
    thresholds: tuple[ThresholdResult, ...]
    comparison: Comparison | None = None
    comparison_error: str | None = None

    def unresolved(self) -> list[Unresolved]:
        """Thresholds the point estimate meets but too few cases to show it."""
        found = (unresolved(self.metrics, t.threshold) for t in self.thresholds)
        return [u for u in found if u is not None]

    def judged_cases(self) -> list[tuple[Case, Verdict]]:
        """The cases that have a verdict, in dataset order."""
        return [(c, self.run.verdicts[c.id]) for c in self.run.cases if c.id in self.run.verdicts]


@dataclass
class Flight:
    """A run's batch still on the loop while items already take the verdicts it has given.

    Attributes:
        future: the batch's future on the session's loop.
        ids: the case ids in the batch.
        finish: closes the batch's progress and adds its notes (once, on the main thread).
        left: cases of the batch still without a verdict.
    """

    future: concurrent.futures.Future[Any]
    ids: set[str]
    finish: Callable[[], None]
    left: int = 0


class EvalSession:
    """Holds every run of a session; runs each judge's batch once, then gates."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs: dict[RunKey, Run] = {}
        self.results: list[RunResult] = []
        self._loop = LoopThread()
        self.calls = CallContext(settings)  # cache, budget and rate limits of model calls
        # runs of @pytest.mark.llmjudge_generator (generation/): same loop, cache and budget
        self.generators = GenSession(settings, self._loop, self.calls)
        # starts a batch's progress display (judge, dataset, cases); the plugin sets it
        self.progress: Callable[[str, str, int], BatchProgress | None] | None = None
        # on a pytest-xdist worker: the ids of a run's cases queued on this worker (or None),
        # so that a worker batches only the cases it runs (see distributed.py)
        self.scheduled: Callable[[RunKey], set[str] | None] | None = None
        # writes a Batch API job's progress lines (the plugin sets it)
        self.status_line: Callable[[str], None] | None = None
        # batches whose verdicts stream to the items as they arrive (no live progress line)
        self._flights: dict[RunKey, list[Flight]] = {}
        self._arrived = threading.Condition()
        # the case an item waits for: only its verdict (or its batch's end) wakes the main thread
        self._awaited: tuple[RunKey, str] | None = None

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
        flight = self._flight(run.key, ref.case.id)
        if flight is None and run.skipped is None and ref.case.id not in run.verdicts:
            self._judge(run, self._pending(run, ref.case), stream=True)
            if all(c.id != ref.case.id for c in run.cases):  # a case that was not selected
                run.cases.append(ref.case)
            flight = self._flight(run.key, ref.case.id)
        if flight is not None:
            self._wait(run, ref.case.id, flight)
        if run.skipped is not None:
            return None
        run.reported.add(ref.case.id)
        return run.verdicts[ref.case.id]

    def _pending(self, run: Run, case: Case) -> list[Case]:
        """What to batch with `case`: the run's selected cases not judged yet (on a pytest-xdist
        worker, only those queued on it)."""
        scheduled = self.scheduled(run.key) if self.scheduled is not None else None
        if scheduled is None and self.scheduled is not None:
            scheduled = set()  # a worker that cannot read its queue: this case alone
        batch = [
            c
            for c in run.cases
            if c.id not in run.verdicts
            and (scheduled is None or c.id in scheduled)
            and self._flight(run.key, c.id) is None
        ]
        return batch if any(c.id == case.id for c in batch) else [*batch, case]

    def judge_run(self, key: RunKey, judge: Judge) -> bool:
        """Judge every selected case of a run not judged yet; False when the run is skipped."""
        run = self.runs[key]
        if run.judge is None:
            run.judge = judge
        self.settle(run.key)
        missing = [c for c in run.cases if c.id not in run.verdicts]
        if missing and run.skipped is None:
            self._judge(run, missing)
        return run.skipped is None

    def _flight(self, key: RunKey, case_id: str) -> Flight | None:
        """The run's batch in flight that holds `case_id`, if any."""
        for flight in self._flights.get(key, ()):
            if case_id in flight.ids:
                return flight
        return None

    def _wait(self, run: Run, case_id: str, flight: Flight) -> None:
        """Wait for one case's verdict from a batch in flight (cancel every batch on Ctrl-C)."""
        try:
            with self._arrived:
                self._awaited = (run.key, case_id)
                try:
                    while case_id not in run.verdicts and not flight.future.done():
                        self._arrived.wait(0.5)
                finally:
                    self._awaited = None
        except BaseException:
            for flights in self._flights.values():
                for other in flights:
                    other.future.cancel()
            self.settle()
            raise
        if flight.future.done() or flight.left <= 0:
            concurrent.futures.wait([flight.future])  # at most closing the client is left
            self._land(run.key, flight)

    def _notify(self, _: object = None) -> None:
        with self._arrived:
            self._arrived.notify_all()

    def _land(self, key: RunKey, flight: Flight) -> None:
        """A finished (or cancelled) batch: its progress line, its notes, its error."""
        flights = self._flights.get(key, [])
        if flight not in flights:
            return
        flights.remove(flight)
        try:
            if not flight.future.cancelled():
                flight.future.result()
        finally:
            flight.finish()

    def cancel(self) -> None:
        """Cancel the batches in flight (an interrupted session); their answers so far stay."""
        for flights in self._flights.values():
            for flight in flights:
                flight.future.cancel()
        self.settle()

    def settle(self, key: RunKey | None = None) -> None:
        """Wait for the batches in flight (of one run, or all) and finish them."""
        for run_key in [key] if key is not None else list(self._flights):
            for flight in list(self._flights.get(run_key, ())):
                concurrent.futures.wait([flight.future])
                self._land(run_key, flight)

    def _judge(self, run: Run, cases: list[Case], stream: bool = False) -> None:
        """Judge `cases`; with `stream`, a model judge's batch returns at once and items take
        verdicts as they arrive (unless a live progress line owns the terminal until the end)."""
        assert run.judge is not None
        backend = create_backend(run.judge, self.settings)
        run.notes.extend(backend.notes)
        model = is_model_backend(backend)
        reason = backend.unavailable()
        # replay never calls the server, so it needs no API key
        if reason is not None and not (model and self.settings.calls.cache == "replay"):
            run.skipped = reason
            return
        calls = CallRunner(backend, self.calls, run.key.judge) if model else None  # type: ignore[arg-type]
        start = self.progress
        progress = start(run.key.judge, run.key.dataset, len(cases)) if start else None
        todo = cases
        if calls is not None and self.settings.scale.batch and hasattr(backend, "chat_body"):
            todo = self._batch_job(run, backend, cases, progress)

        if calls is not None:
            calls.prefetch(todo)  # one query for the batch's cached answers
        flight: Flight | None = None
        store = _store(run, progress)
        left = [len(todo)]

        def on_verdict(case: Case, verdict: Verdict) -> None:
            store(case, verdict)
            left[0] -= 1
            with self._arrived:
                if flight is not None:
                    flight.left = left[0]
                if self._awaited == (run.key, case.id) or not left[0]:
                    self._arrived.notify_all()

        async def batch() -> dict[str, Verdict]:
            try:
                return await judge_batch(
                    backend,
                    todo,
                    self.settings.concurrency,
                    on_verdict=on_verdict,
                    judge_one=calls.judge if calls else None,
                )
            finally:
                await backend.aclose()

        # only batches that wait on a server stream (a function or local judge is instant)
        if stream and calls is not None and (progress is None or progress.live is None):

            def finish() -> None:
                if progress is not None:
                    progress.close()
                if calls is not None:
                    run.notes.extend(calls.notes(run.key.dataset))

            with self._arrived:  # on_verdict sees the flight once it exists
                flight = Flight(self._loop.submit(batch()), {c.id for c in todo}, finish)
                flight.left = left[0]
            flight.future.add_done_callback(self._notify)  # a batch that failed or was cancelled
            self._flights.setdefault(run.key, []).append(flight)
            return
        try:
            self._loop.run(batch())
        finally:
            if progress is not None:
                progress.close()
        if calls is not None:
            run.notes.extend(calls.notes(run.key.dataset))

    def _batch_job(
        self, run: Run, backend: Any, cases: list[Case], progress: BatchProgress | None
    ) -> list[Case]:
        """--llmjudge-batch: judge the uncached cases in one Mistral batch job; the rest."""
        from pytest_llmjudge.backends.mistral_batch import judge_with_batch_job

        done, note = self._loop.run(
            judge_with_batch_job(backend, cases, self.calls, self.settings, self.status_line)
        )
        store = _store(run, progress)
        for case in cases:
            if case.id in done:
                store(case, done[case.id])
        if note is not None:
            run.notes.append(note)
        return [c for c in cases if c.id not in done]

    def close(self) -> None:
        """Stop the batch loop (after the batches in flight)."""
        self.settle()
        self._loop.close()
        self.calls.close()

    def estimate(self) -> list[str]:
        """The requests and tokens the selected cases will cost, one line per model judge's run."""
        return estimate_lines(self.runs.values(), self.settings, self.calls)

    def budget_exhausted(self) -> bool:
        """Whether a case went unscored because the request or token budget ran out."""
        judged = any(
            is_budget_cause(v.error) for run in self.runs.values() for v in run.verdicts.values()
        )
        return judged or self.generators.budget_exhausted()

    def finish(self) -> int:
        """Compute every run's metrics and gates; 0 when all pass, else 1."""
        self.close()
        self.results = [self._result(run) for run in self.runs.values() if run.verdicts]
        generators_passed = self.generators.finish()
        passed = (
            all(r.passed for r in self.results)
            and generators_passed
            and not self.budget_exhausted()
        )
        return 0 if passed else 1

    def publish(self) -> list[dict[str, Any]]:
        """What a pytest-xdist worker sends its controller: the verdicts of the items it ran."""
        self.settle()
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
                "baseline": run.baseline.as_dict() if run.baseline else None,
                "baseline_data": run.baseline_data,
            }
            for run in self.runs.values()
            if run.reported or run.skipped or run.baseline_data is not None
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
            merge_baseline(run, data)
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
        thresholds = tuple(t for t in thresholds if t.metric in JUDGE_METRICS)  # not generators'
        checked = check_thresholds(metrics, thresholds, run.key.judge, self.settings.gates.gate_on)
        try:
            comparison = self.compare(run)
        except CaseMismatchError as exc:
            return RunResult(run, metrics, checked, comparison_error=str(exc))
        return RunResult(run, metrics, checked, comparison)

    def compare(self, run: Run) -> Comparison | None:
        """The run compared with its stored baseline (None when it has none); raises
        CaseMismatchError when the baseline holds other cases than the selected ones."""
        if run.baseline is None or run.baseline_data is None:
            return None
        gates = self.settings.gates
        # precedence: command line > marker
        require_better = run.baseline.require_better
        if gates.require_better is not None:
            require_better = gates.require_better
        judged = [(c, run.verdicts[c.id]) for c in run.cases if c.id in run.verdicts]
        # an unscored case's reason is its cause, as in the stored baseline
        candidate = [
            PairedCase(c.id, c.target, v.prediction, v.reason or v.error or "") for c, v in judged
        ]
        return compare(
            baseline_cases(run.baseline_data),
            candidate,
            baseline_label=run.baseline.role,
            candidate_label=run.key.judge,
            alpha=gates.alpha,
            tolerances=gates.tolerances,
            require_better=require_better,
            positive=self.settings.positive,
            unscored=self.settings.unscored,
            baseline_judge=run.baseline_data.get("judge"),
        )


def _store(run: Run, progress: BatchProgress | None = None):  # type: ignore[no-untyped-def]
    def on_verdict(case: Case, verdict: Verdict) -> None:
        run.verdicts[case.id] = verdict
        if progress is not None:
            progress.update(verdict)

    return on_verdict
