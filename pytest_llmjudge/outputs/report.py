"""The evaluation report as data: JSON for machines, lines for the terminal."""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pytest_llmjudge.calls.budget import budget_cause
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.evaluation.results import RunResult, probability_pairs
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.runs import JudgeRun
from pytest_llmjudge.outputs.formatting import calls_line
from pytest_llmjudge.outputs.gates import gate_lines, selection, threshold_cells
from pytest_llmjudge.outputs.gen_report import gen_report, gen_summary_lines
from pytest_llmjudge.outputs.leaderboard import leaderboard_lines
from pytest_llmjudge.outputs.repeats import flaky_lines, repetition_fields
from pytest_llmjudge.outputs.slices import slice_lines
from pytest_llmjudge.scoring.calibration import reliability
from pytest_llmjudge.scoring.comparison import baseline_cell, comparison_lines
from pytest_llmjudge.scoring.cost import dollars
from pytest_llmjudge.scoring.gating import uncertainty_lines, with_interval
from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.wording import plural


def run_dict(result: RunResult) -> dict[str, Any]:
    """One run as the JSON report writes it."""
    run, judge = result.run, result.run.judge
    return {
        "test": run.key.test,
        "judge": run.key.judge,
        "dataset": run.key.dataset,
        "dataset_path": str(run.dataset.path),
        "model": judge.model if judge else None,
        "backend": judge.backend if judge else None,
        "kind": judge.kind if judge else None,
        "repeat": run.repeat,
        "fingerprint": dict(result.fingerprint),
        "slice_by": list(run.dataset.slice_by),
        "metrics": result.metrics.model_dump(),
        "slices": {name: m.model_dump() for name, m in result.slices.items()},
        "reliability": reliability_bins(result),  # the reliability diagram's 10 bins
        "thresholds": [t.as_dict() for t in result.thresholds],
        "unresolved": [u.message() for u in result.unresolved()],
        "comparison": result.comparison.as_dict() if result.comparison else None,
        "comparison_error": result.comparison_error,
        # the stored baseline the comparison was made with, so `regate` can redo it
        "baseline_snapshot": result.run.baseline_data,
        **selection(result),
        "nothing_scored": result.nothing_scored,
        "passed": result.passed,
        "cost": cost.as_dict() if (cost := result.cost) is not None else None,
        "cached": sum(1 for _, verdict in result.judged_cases() if verdict.cached),
        "cases": [
            {
                "id": case.id,
                "target": case.target,
                "slices": list(case.slices),
                "prediction": verdict.prediction,
                "correct": verdict.prediction == case.target,
                "reason": verdict.reason,
                "error": verdict.error,
                "raw": verdict.raw if verdict.prediction is None else None,
                "probability": verdict.probability,
                "latency_s": round(verdict.latency_s, 6),
                "tokens": verdict.tokens,
                "cost": verdict.cost,
                "cached": verdict.cached,
                **repetition_fields(verdict),
            }
            for case, verdict in result.judged_cases()
        ],
    }


def reliability_bins(result: RunResult) -> list[dict[str, Any]] | None:
    """The reliability diagram of a judge whose verdicts have probabilities (None: none)."""
    pairs = probability_pairs(result.judged_cases())
    return [dataclasses.asdict(b) for b in reliability(pairs)] if pairs else None


def report_dict(evals: EvalSession) -> dict[str, Any]:
    """The whole JSON report."""
    return {
        "passed": all(r.passed for r in evals.results)
        and not evals.budget_exhausted()
        and not evals.interrupted,
        "interrupted": evals.interrupted,  # Ctrl-C or SIGTERM: the runs hold the cases judged
        "calls": {  # model calls: how many answers came from the cache; a budget that ran out
            "cached": sum(1 for r in evals.judge_results for _, v in r.judged_cases() if v.cached),
            "budget_exhausted": evals.budget_exhausted(),
        },
        "runs": [run_dict(r) for r in evals.judge_results],
        # the judges of each dataset two or more were evaluated on, ranked and compared
        "leaderboard": {board.dataset: board.as_dict() for board in evals.leaderboards},
        "skipped": [
            {
                "test": run.key.test,
                "judge": run.key.judge,
                "dataset": run.key.dataset,
                "reason": run.skipped,
            }
            for run in evals.skipped_runs("judge")
        ],
        **gen_report(evals),  # generator_runs, generator_skipped
    }


def write_report(evals: EvalSession, path: Path) -> None:
    """Write the JSON report (secrets scrubbed) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(redact(json.dumps(report_dict(evals), indent=2)) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _cell(m: Metrics, name: str) -> str:
    """A metric's cell: its value with its interval, n/a when undefined, a count as it is."""
    if f"{name}_ci" in Metrics.model_fields or name == "coverage":
        return with_interval(m.value(name), m.interval(name))
    return str(getattr(m, name))


def summary_lines(evals: EvalSession) -> Iterator[str]:
    """The terminal summary: one row per run, then the failed gates and skipped runs."""
    columns = evals.settings.outputs.columns
    header = ("judge", "dataset", "n", "unscored")
    header += tuple(f"{c} [95% CI]" if f"{c}_ci" in Metrics.model_fields else c for c in columns)
    rows = [(*header, "gates")]
    for r in evals.judge_results:
        m = r.metrics
        gate_cells = threshold_cells(r)
        if r.comparison is not None or r.comparison_error is not None:
            gate_cells.append(baseline_cell(r.comparison, r.comparison_error))
        gates = ", ".join(gate_cells) or "-"
        unscored = str(m.unscored) + (" (excluded)" if m.unscored_policy == "exclude" else "")
        rows.append(
            (
                r.run.key.judge,
                r.run.key.dataset,
                str(m.n),
                unscored,
                *(_cell(m, c) for c in columns),
                gates,
            )
        )
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            yield "  ".join([*cells, row[-1]]).rstrip()
    yield from slice_lines(evals.judge_results, columns, lambda r: r.run.key.judge)
    yield from calibration_lines(evals.judge_results, columns)
    for board in evals.leaderboards:
        yield from leaderboard_lines(board.as_dict())
    for r in evals.judge_results:
        if r.metrics.unscored_policy == "exclude" and r.metrics.unscored:
            yield (
                f"{r.run.key.judge} on {r.run.key.dataset}: {r.metrics.unscored} unscored cases "
                f"excluded from the metrics; coverage {r.metrics.coverage:.1%}"
            )
        yield from gate_lines(r, f"judge {r.run.key.judge} on {r.run.key.dataset}")
        yield from flaky_lines(r, f"judge {r.run.key.judge} on {r.run.key.dataset}")
        yield from uncertainty_lines(r.run.key.judge, r.run.key.dataset, r.unresolved())
        yield from comparison_lines(
            r.run.key.judge, r.run.key.dataset, r.comparison, r.comparison_error
        )
    yield from cost_lines(evals.results)
    yield from interrupted_lines(evals)
    for run in evals.runs.values():
        if isinstance(run, JudgeRun):
            yield from (calls_line(where, counts) for where, counts in run.calls.items())
            yield from run.notes
    for run in evals.skipped_runs("judge"):
        yield f"skipped: judge {run.key.judge} on {run.key.dataset}: {run.skipped}"
    yield from gen_summary_lines(evals)
    yield from budget_lines(evals)


def calibration_lines(results: Iterable[RunResult], columns: Iterable[str]) -> Iterator[str]:
    """Brier and ECE of the runs whose verdicts have probabilities (unless the table has them)."""
    if {"brier", "ece"} <= set(columns):
        return
    for r in results:
        m = r.metrics
        if isinstance(m, Metrics) and m.calibrated:
            yield (
                f"calibration: judge {r.run.key.judge} on {r.run.key.dataset}: brier "
                f"{_cell(m, 'brier')}, ece {_cell(m, 'ece')} (10 bins; {m.calibrated} cases "
                "with a probability)"
            )


def cost_lines(results: Iterable[RunResult]) -> Iterator[str]:
    """What each run's model calls cost, for the runs that made any."""
    for r in results:
        cost = r.cost
        if cost is None:
            continue
        key = r.run.key
        where = f"judge {key.judge}" if r.kind == "judge" else f"generator {r.run.label}"
        tokens = "tokens unknown" if cost.tokens is None else f"{cost.tokens:,} tokens"
        money = "cost unknown" if cost.spent is None else f"{dollars(cost.spent)} spent"
        line = f"cost: {where} on {key.dataset}: {money}, {tokens}"
        if cost.cached:
            line += f" ({cost.cached} from the cache, free)"
        if cost.spent is None:
            line += " (a model has no price in llmjudge_prices, or did not report its tokens)"
        elif r.kind == "judge":
            line += f"; {dollars(cost.per_case)} per case"
            line += f", {dollars(cost.per_correct)} per correct verdict"
        yield line


def interrupted_lines(evals: EvalSession) -> Iterator[str]:
    """An interrupted session: how far each judge run got (one line when all were done)."""
    if not evals.interrupted:
        return
    short = [(r, len(r.judged_cases())) for r in evals.judge_results]
    short = [(r, judged) for r, judged in short if judged < len(r.run.cases)]
    for r, judged in short:
        yield (
            f"FAILED interrupted: judge {r.run.key.judge} on {r.run.key.dataset}: "
            f"{judged} of {plural(len(r.run.cases), 'case')} judged"
        )
    if not short:
        yield "FAILED interrupted: the session was interrupted, so it does not pass"


def budget_lines(evals: EvalSession) -> Iterator[str]:
    """One `FAILED budget` line per run whose budget ran out, with how many of its cases (a
    generator run's answers) it left unscored: counted from the run's outcomes, so that under
    pytest-xdist it is one line for every worker's batches."""
    for run in evals.runs.values():
        if isinstance(run, JudgeRun):
            where, unit = f"judge {run.key.judge} on {run.key.dataset}", "case"
        else:
            key = run.key
            where = f"generator {key.generator} at {key.point} on {key.dataset}"
            unit = "answer"
        causes = Counter(budget_cause(verdict.error) for verdict in run.verdicts.values())
        for cause, count in causes.items():
            if cause is not None:
                yield f"FAILED budget: {where}: {cause}; {plural(count, unit)} unscored"
