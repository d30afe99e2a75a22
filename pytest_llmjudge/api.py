"""The library API: `evaluate()` judges a dataset in a plain Python process, without pytest.

    from pytest_llmjudge import evaluate, local_judge

    result = evaluate(dataset="data/cases.jsonl", judges=[local_judge("offline", train=[...])],
                      thresholds=["accuracy>=0.7"], concurrency=16)
    result.passed, result.runs[0].metrics.accuracy, result.to_report()

It drives the same core as the `llmjudge` marker (evaluation/session.py): the same backends,
cache, retries, budget, metrics, gates and JSON report; only the items are missing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pytest_llmjudge.errors import ConfigError, unknown
from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.paths import declaring_dir
from pytest_llmjudge.model.runs import CaseRef, JudgeRun, RunKey
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.gating import with_interval
from pytest_llmjudge.scoring.leaderboard import RANK_METRICS, Leaderboard
from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.scoring.thresholds import (
    Threshold,
    check_scopes,
    check_slices,
    thresholds_from,
)
from pytest_llmjudge.settings import CallSettings, Settings

TEST_ID = "evaluate"  # the `test` of every run evaluate() makes (a node id under pytest)


@dataclass(frozen=True)
class JudgedCase:
    """One case with the judge's verdict on it."""

    case: Case
    verdict: Verdict

    @property
    def correct(self) -> bool:
        """Whether the verdict matches the case's target."""
        return self.verdict.prediction == self.case.target


@dataclass(frozen=True)
class EvaluatedRun:
    """One judge on one dataset: its metrics (the report's names), gates and cases, and the
    metrics of each slice of its cases (Dataset(slice_by=)), by "key=value"."""

    judge: str
    dataset: str
    metrics: Metrics
    passed: bool
    cases: tuple[JudgedCase, ...]
    result: RunResult
    slices: Mapping[str, Metrics]

    @classmethod
    def of(cls, result: RunResult) -> EvaluatedRun:
        cases = tuple(JudgedCase(c, v) for c, v in result.judged_cases())
        key = result.run.key
        slices = cast(Mapping[str, Metrics], result.slices)
        return cls(key.judge, key.dataset, result.metrics, result.passed, cases, result, slices)


@dataclass(frozen=True)
class SkippedRun:
    """A judge that could not run here (e.g. a missing API key), with the reason."""

    judge: str
    dataset: str
    reason: str


class EvaluationResult:
    """What `evaluate()` returns: `.passed`, `.runs`, `.skipped`, `.leaderboards`,
    `.to_report()`."""

    def __init__(self, session: EvalSession, passed: bool) -> None:
        self._session = session
        self.passed = passed
        self.runs = [EvaluatedRun.of(r) for r in session.judge_results]
        self.leaderboards = list(session.leaderboards)  # datasets two or more judges were run on
        self.skipped = [
            SkippedRun(run.key.judge, run.key.dataset, run.skipped or "")
            for run in session.skipped_runs("judge")
        ]

    def run(self, judge: str, dataset: str | None = None) -> EvaluatedRun:
        """The run of one judge (on one dataset, when several were evaluated)."""
        for run in self.runs:
            if run.judge == judge and dataset in (None, run.dataset):
                return run
        raise KeyError(f"no run of judge {judge!r}; runs: {[r.judge for r in self.runs]}")

    def leaderboard(self, dataset: str | None = None) -> Leaderboard:
        """The ranking of the judges on one dataset (the only one, when one was evaluated)."""
        for board in self.leaderboards:
            if dataset in (None, board.dataset):
                return board
        known = [b.dataset for b in self.leaderboards]
        raise KeyError(f"no leaderboard for dataset {dataset!r} (two judges or more); {known}")

    def to_report(self) -> dict[str, Any]:
        """The JSON report, the same dict `--llmjudge-report` writes."""
        from pytest_llmjudge.outputs.report import report_dict

        return report_dict(self._session)

    def summary(self) -> list[str]:
        """The terminal summary's lines (the table, failed gates, notes, skipped runs)."""
        from pytest_llmjudge.outputs.report import summary_lines

        return list(summary_lines(self._session))

    def __repr__(self) -> str:
        runs = ", ".join(
            f"{r.judge}: accuracy {with_interval(r.metrics.accuracy, None)}" for r in self.runs
        )
        return f"EvaluationResult(passed={self.passed}, {runs or 'no runs'})"


def evaluate(
    dataset: str | Path | Dataset | Sequence[str | Path | Dataset],
    judges: Sequence[Judge],
    thresholds: Iterable[str | Threshold] | dict[str, float] | None = None,
    **settings: Any,
) -> EvaluationResult:
    """Judge every case of `dataset` with each judge; metrics, gates and report as under pytest.

    `settings` are fields of `Settings` (concurrency=16, unscored="exclude", positive=0,
    timeout_s=30, calls=CallSettings(...), gates=GateSettings(...), report_path=..., ...).
    Relative dataset paths are relative to the calling file (in a notebook or the REPL, the
    working directory). The response cache is `.llmjudge/cache` in the working directory (or
    rootdir=), shared with pytest runs from the same folder.
    Safe to call where an event loop is running (a notebook): batches run on a loop thread of
    their own. `evaluate_async` is the same for `await`.
    """
    return _evaluate(declaring_dir(), dataset, judges, thresholds, settings)


async def evaluate_async(
    dataset: str | Path | Dataset | Sequence[str | Path | Dataset],
    judges: Sequence[Judge],
    thresholds: Iterable[str | Threshold] | dict[str, float] | None = None,
    **settings: Any,
) -> EvaluationResult:
    """`evaluate()` without blocking the running event loop (it runs in a worker thread)."""
    folder = declaring_dir()
    return await asyncio.to_thread(_evaluate, folder, dataset, judges, thresholds, settings)


def _evaluate(
    folder: Path,
    dataset: str | Path | Dataset | Sequence[str | Path | Dataset],
    judges: Sequence[Judge],
    thresholds: Iterable[str | Threshold] | dict[str, float] | None,
    settings: dict[str, Any],
) -> EvaluationResult:
    resolved = _settings(settings)
    session = EvalSession(resolved)
    try:
        keys = _register(session, _datasets(dataset, folder), judges, thresholds)
        for key, judge in keys:
            session.judge_run(key, judge)
    except BaseException:  # an interrupted evaluation stops its batches; finish() closes
        session.cancel()
        session.close()
        raise
    status = session.finish()
    result = EvaluationResult(session, passed=status == 0)
    if resolved.report_path is not None:
        from pytest_llmjudge.outputs.report import write_report

        write_report(session, resolved.report_path)
    return result


def _settings(overrides: dict[str, Any]) -> Settings:
    root = Path(overrides.get("rootdir") or Path.cwd())
    base = Settings(
        rootdir=root,
        artifacts_dir=root / ".llmjudge" / "artifacts",
        calls=CallSettings(cache_dir=root / ".llmjudge" / "cache"),
    )
    known = {f.name for f in dataclasses.fields(Settings)}
    strange = sorted(set(overrides) - known)
    if strange:
        raise ConfigError(
            f"evaluate(): unknown setting(s) {', '.join(strange)}; "
            f"known: {', '.join(sorted(known))}"
        )
    if "report_path" in overrides and overrides["report_path"] is not None:
        overrides = {**overrides, "report_path": Path(overrides["report_path"])}
    resolved = dataclasses.replace(base, **overrides)
    if resolved.outputs.rank_by not in RANK_METRICS:
        wrong = unknown("metric", resolved.outputs.rank_by, RANK_METRICS)
        raise ConfigError(f"evaluate(): outputs.rank_by: {wrong}")
    return resolved


def _datasets(
    dataset: str | Path | Dataset | Sequence[str | Path | Dataset], folder: Path
) -> list[Dataset]:
    items = [dataset] if isinstance(dataset, str | Path | Dataset) else list(dataset)
    out = []
    for item in items:
        if isinstance(item, str | Path):
            item = Dataset(path=Path(item))
        if not isinstance(item, Dataset):
            raise ConfigError(f"evaluate(): dataset: expected a path or a Dataset, got {item!r}")
        out.append(item.resolved(folder))
    labels = [d.label for d in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"evaluate(): duplicate dataset names {labels}; set name=")
    return out


def _register(
    session: EvalSession,
    datasets: list[Dataset],
    judges: Sequence[Judge],
    thresholds: Iterable[str | Threshold] | dict[str, float] | None,
) -> list[tuple[RunKey, Judge]]:
    if isinstance(judges, Judge) or not judges:
        raise ConfigError("evaluate(): judges= needs a list of Judge objects")
    for judge in judges:
        if not isinstance(judge, Judge):
            raise ConfigError(f"evaluate(): judges: expected a Judge, got {judge!r}")
    names = [j.name for j in judges]
    if len(set(names)) != len(names):
        raise ConfigError(f"evaluate(): duplicate judge names {names}")
    try:
        gates = thresholds_from(thresholds)
    except Exception as exc:
        raise ConfigError(f"evaluate(): thresholds: {exc}") from None
    check_scopes(gates, names, "evaluate(): thresholds=")
    check_slices(gates, {key for d in datasets for key in d.slice_by}, "evaluate(): thresholds=")
    keys, refs = [], []
    for dataset in datasets:
        cases = dataset.load()
        for judge in judges:
            key = RunKey(TEST_ID, judge.name, dataset.label)
            repeat = session.settings.repeat_for(None)
            session.register(JudgeRun(key, judge, dataset, gates, total=len(cases), repeat=repeat))
            refs += [CaseRef(key, case) for case in cases]
            keys.append((key, judge))
    session.select(refs)
    return keys
