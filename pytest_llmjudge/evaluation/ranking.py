"""The leaderboards of a finished session: the judge runs of each dataset that two or more
judges were evaluated on, ranked and compared pairwise (scoring/leaderboard.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.model.runs import JudgeRun
from pytest_llmjudge.scoring.leaderboard import Entry, Leaderboard, leaderboard
from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.settings import Settings


def leaderboards(results: Sequence[RunResult], settings: Settings) -> list[Leaderboard]:
    """One leaderboard per dataset that two or more judges were evaluated on, in the order of
    their runs (a judge's first run on it)."""
    by_dataset: dict[tuple[str, str], dict[str, RunResult]] = {}
    for r in results:
        if r.kind == "judge":  # a judge evaluated twice (in two tests) is ranked once
            run = cast(JudgeRun, r.run)
            group = by_dataset.setdefault((run.key.dataset, str(run.dataset.path)), {})
            group.setdefault(run.key.judge, r)
    return [
        leaderboard(
            dataset,
            _entries(list(group.values()), settings),
            settings.outputs.rank_by,
            settings.gates.alpha,
        )
        for (dataset, _), group in by_dataset.items()
        if len(group) > 1
    ]


def _entries(group: Sequence[RunResult], settings: Settings) -> list[Entry]:
    entries = []
    for r in group:
        run = cast(JudgeRun, r.run)
        metrics = cast(Metrics, r.metrics)
        correct = {
            case.id: verdict.prediction == case.target
            for case, verdict in r.judged_cases()
            if verdict.prediction is not None or metrics.unscored_policy != "exclude"
        }
        metric = settings.outputs.rank_by
        entries.append(
            Entry(run.key.judge, metrics.value(metric), metrics.interval(metric), correct)
        )
    return entries
