"""Judge runs: a judge's verdicts on the selected cases, batched, cached and streamed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.evaluation.estimate import MODEL_BACKENDS
from pytest_llmjudge.evaluation.services import Progress, Services
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.repeats import majority, repetitions
from pytest_llmjudge.model.runs import CaseRef, JudgeRun, add_calls
from pytest_llmjudge.model.verdict import Verdict


class Judging:
    """Runs judge runs' batches on the session's services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def verdict(self, run: JudgeRun, ref: CaseRef, judge: Judge) -> Verdict | None:
        """The verdict for a case, running its judge's batch first if needed; None when skipped."""
        streams = self.services.streams
        if run.judge is None:
            run.judge = judge
        case = ref.case
        flight = streams.find(run.key, case.id)
        if flight is None and run.skipped is None and case.id not in run.verdicts:
            self.judge(run, self._pending(run, case), stream=True)
            if all(c.id != case.id for c in run.cases):  # a case that was not selected
                run.cases.append(case)
            flight = streams.find(run.key, case.id)
        if flight is not None:
            streams.wait(run.key, case.id, flight, lambda: case.id in run.verdicts)
        if run.skipped is not None:
            return None
        run.reported.add(case.id)
        return run.verdicts[case.id]

    def start(self, run: JudgeRun) -> bool:
        """Start the batch of a run's selected cases before any item asks for a verdict (at the
        end of collection), when its judge is a model judge given as a Judge (one named by a
        fixture is known only once an item resolves it); True when a batch started."""
        judge = run.judge_ref
        if not isinstance(judge, Judge) or judge.backend not in MODEL_BACKENDS:
            return False
        streams = self.services.streams
        todo = [
            c for c in run.cases if c.id not in run.verdicts and streams.find(run.key, c.id) is None
        ]
        if run.skipped is not None or not todo:
            return False
        if run.judge is None:
            run.judge = judge
        self.judge(run, todo, stream=True)
        return True

    def _pending(self, run: JudgeRun, case: Case) -> list[Case]:
        """What to batch with `case`: the run's selected cases not judged yet (on a pytest-xdist
        worker, only those queued on it)."""
        streams = self.services.streams
        todo = [
            c for c in run.cases if c.id not in run.verdicts and streams.find(run.key, c.id) is None
        ]
        keep = set(self.services.queued(run.key, [c.id for c in todo], case.id))
        batch = [c for c in todo if c.id in keep]
        return batch if any(c.id == case.id for c in batch) else [*batch, case]

    def judge_all(self, run: JudgeRun, judge: Judge) -> bool:
        """Judge every selected case not judged yet; False when the run is skipped."""
        if run.judge is None:
            run.judge = judge
        self.services.streams.settle(run.key)
        missing = [c for c in run.cases if c.id not in run.verdicts]
        if missing and run.skipped is None:
            self.judge(run, missing)
        return run.skipped is None

    def judge(self, run: JudgeRun, cases: list[Case], stream: bool = False) -> None:
        """Judge `cases`; with `stream`, a model judge's batch returns at once and items take
        verdicts as they arrive (unless a live progress line owns the terminal until the end)."""
        assert run.judge is not None
        services = self.services
        backend = create_backend(run.judge, services.settings)
        run.notes.extend(backend.notes)
        reason = services.unavailable(backend)
        if reason is not None:
            run.skipped = reason
            return
        calls = services.runner(backend, run.key.judge)
        start = services.progress
        progress = start(run.key.judge, run.key.dataset, len(cases)) if start else None
        todo = [t for c in cases for t in repetitions(c, run.repeat)]
        todo = [t for t in todo if t.repeat not in run.pending.get(t.id, {})]
        settings = services.settings
        if calls is not None and settings.scale.batch and hasattr(backend, "chat_body"):
            todo = self._batch_job(run, backend, cases, progress)
        if calls is not None:
            calls.prefetch(todo)  # one query for the batch's cached answers
        store = _store(run, progress)
        call = calls.judge if calls is not None else backend.judge

        def finish() -> None:
            if progress is not None:
                progress.close()
            if calls is not None:
                run.notes.extend(calls.notes(run.key.dataset))
                add_calls(run, f"judge {run.key.judge} on {run.key.dataset}", calls.stats.counts())

        # only batches that wait on a server stream (a function or local judge is instant)
        if stream and calls is not None and (progress is None or progress.live is None):
            from pytest_llmjudge.calls.loop import run_batch

            def batch(arrived: Callable[[str], None]) -> Any:
                def on_verdict(case: Case, verdict: Verdict) -> None:
                    store(case, verdict)
                    if case.id in run.verdicts:  # its last repetition
                        arrived(case.id)

                async def whole() -> dict[str, Verdict]:
                    try:
                        return await run_batch(todo, call, settings.concurrency, on_verdict)
                    finally:
                        await backend.aclose()

                return whole()

            services.streams.start(run.key, (c.id for c in todo), batch, finish)
            return
        try:
            services.batch(backend, todo, call, store)
        finally:
            if progress is not None:
                progress.close()
        if calls is not None:
            run.notes.extend(calls.notes(run.key.dataset))
            add_calls(run, f"judge {run.key.judge} on {run.key.dataset}", calls.stats.counts())

    def _batch_job(
        self, run: JudgeRun, backend: Any, cases: list[Case], progress: Progress | None
    ) -> list[Case]:
        """--llmjudge-batch: judge the uncached cases in one Mistral batch job; the rest."""
        from pytest_llmjudge.backends.mistral.batch import judge_with_batch_job

        services = self.services
        done, note = services.loop.run(
            judge_with_batch_job(
                backend, cases, services.calls, services.settings, services.status_line
            )
        )
        store = _store(run, progress)
        for case in cases:
            if case.trial in done:
                store(case, done[case.trial])
        if note is not None:
            run.notes.append(note)
        return [c for c in cases if c.trial not in done]


def _store(run: JudgeRun, progress: Progress | None) -> Callable[[Case, Verdict], None]:
    """Store each verdict as it arrives; with repeat=N, a case's verdict (the majority of its
    repetitions) once its N repetitions have arrived."""

    def on_verdict(case: Case, verdict: Verdict) -> None:
        if run.repeat > 1:
            trials = run.pending.setdefault(case.id, {})
            trials[case.repeat] = verdict
            if len(trials) < run.repeat:
                return
            verdict = majority([trials[k] for k in sorted(trials)])
            del run.pending[case.id]
        run.verdicts[case.id] = verdict
        if progress is not None:
            progress.update(verdict)

    return on_verdict
