"""EvalSession, the one orchestrator: runs of both kinds, their batches, results, exit status.

A run is a judge on a dataset (`JudgeRun`) or a generator at a sampling point (`GenRun`); both
are registered, selected, scheduled (on a pytest-xdist worker, only the cases queued there),
finished into a `RunResult` with the same gate and comparison rules, published and merged
through one path. What differs, how a batch runs, lives in judging.py and generating.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.calls.budget import is_budget_cause
from pytest_llmjudge.evaluation.services import Services
from pytest_llmjudge.model.gen_run import Answer, AnswerRef, GenRun
from pytest_llmjudge.model.generator import Generator
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import CaseRef, JudgeRun, Key, Ref, Run, RunKey
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings

if TYPE_CHECKING:  # loaded when first used: collection needs only the run model
    from pytest_llmjudge.evaluation.generating import Generating
    from pytest_llmjudge.evaluation.judging import Judging
    from pytest_llmjudge.evaluation.results import RunResult
    from pytest_llmjudge.scoring.comparison import Comparison
    from pytest_llmjudge.scoring.leaderboard import Leaderboard


class EvalSession:
    """Holds every run of a session; runs each run's batches once, then gates."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs: dict[Key, Run] = {}
        self.results: list[RunResult] = []
        self.leaderboards: list[Leaderboard] = []  # datasets two or more judges were run on
        self.interrupted = False  # Ctrl-C or SIGTERM: the session does not pass
        self.services = Services(settings)

    @cached_property
    def _judging(self) -> Judging:
        from pytest_llmjudge.evaluation.judging import Judging

        return Judging(self.services)

    @cached_property
    def _generating(self) -> Generating:
        from pytest_llmjudge.evaluation.generating import Generating

        return Generating(self.services)

    # -- registration and selection: both kinds ------------------------------------------------

    def register(self, run: Run) -> Run:
        """Declare a run at collection time (the first declaration of a key wins)."""
        return self.runs.setdefault(run.key, run)

    def select(self, refs: Iterable[Ref]) -> None:
        """Record the cases that survived selection (-k, --lf, --deselect), in item order."""
        for run in self.runs.values():
            run.cases = []
        for ref in refs:
            self.runs[ref.run].cases.append(ref.case)  # type: ignore[arg-type]

    def check_thresholds(self) -> None:
        """Raise ConfigError when a command-line or ini threshold names a judge or generator
        that no run of the session has (a marker's are checked where it is parsed)."""
        from pytest_llmjudge.evaluation.results import check_session_scopes

        check_session_scopes(self.runs.values(), self.settings)

    def judge_run_of(self, key: RunKey) -> JudgeRun:
        run = self.runs[key]
        assert isinstance(run, JudgeRun)
        return run

    def gen_run_of(self, key: Any) -> GenRun:
        run = self.runs[key]
        assert isinstance(run, GenRun)
        return run

    # -- the items' outcomes -------------------------------------------------------------------

    def verdict(self, ref: CaseRef, judge: Judge) -> Verdict | None:
        """A judge run's verdict on one case (its batch first if needed); None when skipped."""
        return self._judging.verdict(self.judge_run_of(ref.run), ref, judge)

    def start(self, keys: Iterable[Key]) -> list[Key]:
        """Start the batches of these runs' selected cases now, before their items ask (judge
        runs of model judges given as Judge objects); the keys of the runs that started."""
        runs = [self.runs[key] for key in keys]
        return [r.key for r in runs if isinstance(r, JudgeRun) and self._judging.start(r)]

    def judge_run(self, key: RunKey, judge: Judge) -> bool:
        """Judge every selected case of a run not judged yet; False when the run is skipped."""
        return self._judging.judge_all(self.judge_run_of(key), judge)

    def answers(
        self, ref: AnswerRef, generator: Generator, judge: Judge, relevancy: Judge | None = None
    ) -> list[tuple[Answer, Verdict]] | None:
        """A generator run's answers to one case with their verdicts; None when skipped."""
        run = self.gen_run_of(ref.run)
        return self._generating.answers(run, ref, generator, judge, relevancy)

    def generator_unavailable(self, key: Any, generator: Generator) -> str | None:
        """Why a generator run cannot run here (the run is then skipped), or None."""
        return self._generating.unavailable(self.gen_run_of(key), generator)

    # -- the session's end ---------------------------------------------------------------------

    def settle(self, key: Key | None = None) -> None:
        """Wait for the batches in flight (of one run, or all) and finish them."""
        self.services.streams.settle(key)

    def cancel(self) -> None:
        """Cancel the batches in flight (an interrupted session); their answers so far stay."""
        self.interrupted = True
        self.services.streams.cancel()

    def close(self) -> None:
        """Stop the batch loop (after the batches in flight) and close the cache."""
        self.services.close()

    def estimate(self, keys: Iterable[Key] | None = None) -> list[str]:
        """The requests and tokens the selected cases will cost, one line per model judge's run
        (of the runs of `keys`, else of all)."""
        runs = self.runs.values() if keys is None else [self.runs[k] for k in keys]
        judge_runs = [r for r in runs if isinstance(r, JudgeRun)]
        from pytest_llmjudge.evaluation.estimate import estimate_lines

        return estimate_lines(judge_runs, self.settings, self.services.calls)

    def budget_exhausted(self) -> bool:
        """Whether a case went unscored (or an answer unwritten) because the budget ran out."""
        return any(is_budget_cause(e) for run in self.runs.values() for e in run.errors())

    def finish(self) -> int:
        """Compute every run's metrics and gates; 0 when all pass, else 1."""
        from pytest_llmjudge.evaluation.ranking import leaderboards
        from pytest_llmjudge.evaluation.results import finish_run

        self.close()
        self.results = [
            finish_run(run, self.settings, self.runs)
            for run in self.runs.values()
            if run.has_outcomes()
        ]
        self.leaderboards = leaderboards(self.judge_results, self.settings)
        passed = all(r.passed for r in self.results) and not self.budget_exhausted()
        return 0 if passed and not self.interrupted else 1

    def compare(self, run: JudgeRun) -> Comparison | None:
        """A judge run compared with its stored baseline (None when it has none)."""
        from pytest_llmjudge.evaluation.results import compare_with_baseline

        return compare_with_baseline(run, self.settings)

    def publish(self) -> list[dict[str, Any]]:
        """What a pytest-xdist worker sends its controller: the outcomes of the items it ran
        (interrupted: every outcome it has, as a serial run keeps them)."""
        from pytest_llmjudge.evaluation import wire

        self.settle()
        return wire.publish(self.runs, self.interrupted)

    def merge(self, published: list[dict[str, Any]]) -> None:
        """Merge a worker's published runs into this (controller) session."""
        from pytest_llmjudge.evaluation import wire

        wire.merge(self.runs, published)

    # -- views for the outputs ------------------------------------------------------------------

    def skipped_runs(self, kind: str | None = None) -> list[Run]:
        """Runs skipped as a whole (e.g. a missing API key), of one kind or both."""
        return [
            run
            for run in self.runs.values()
            if run.skipped is not None and not run.has_outcomes() and kind in (None, run.kind)
        ]

    @property
    def judge_results(self) -> list[RunResult]:
        """The finished judge runs."""
        return [r for r in self.results if r.kind == "judge"]

    @property
    def generator_results(self) -> list[RunResult]:
        """The finished generator runs."""
        return [r for r in self.results if r.kind == "generator"]
