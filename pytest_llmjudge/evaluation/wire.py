"""Runs of either kind as JSON, from a pytest-xdist worker to its controller, and back.

A worker sends what its items reported (each run's cases, verdicts, answers and notes); the
controller merges every worker's runs into its own, so that it gates and reports the whole. An
interrupted worker sends every outcome it has, reported by an item or not, as a serial run keeps
them: each case is batched on one worker only, so no two workers send the same one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel

from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.gen_dataset import GenCase, GenDataset
from pytest_llmjudge.model.gen_run import Answer, GenRun, GenRunKey
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import JudgeRun, Key, Run, RunKey, add_calls, merge_baseline
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.correction import JudgeRates
from pytest_llmjudge.scoring.thresholds import parse_threshold


def publish(runs: dict[Key, Run], interrupted: bool = False) -> list[dict[str, Any]]:
    """What a worker sends: every run its items used, with the outcomes they reported (every
    outcome it has, when `interrupted`)."""
    out = []
    for run in runs.values():
        shown = set(run.reported)
        if interrupted:
            shown |= {c.id for c in run.cases if _has_outcome(run, c.id)}
        if isinstance(run, JudgeRun):
            if shown or run.skipped or run.baseline_data is not None:
                out.append(_judge_run(run, shown))
        elif shown or run.skipped:
            out.append(_gen_run(run, shown))
    return out


def _has_outcome(run: Run, case_id: str) -> bool:
    """Whether a case has an outcome: a judge run's verdict, a generator run's answer."""
    if isinstance(run, JudgeRun):
        return case_id in run.verdicts
    return any(a in run.answers for c in run.cases if c.id == case_id for a in run.answer_ids(c))


def merge(runs: dict[Key, Run], published: list[dict[str, Any]]) -> None:
    """Merge a worker's published runs into the controller's `runs`."""
    for data in published:
        if data["kind"] == "judge":
            _merge_judge_run(runs, data)
        else:
            _merge_gen_run(runs, data)


def _common(run: Run) -> dict[str, Any]:
    return {
        "kind": run.kind,
        "dataset": run.dataset.model_dump(mode="json"),
        "thresholds": [str(t) for t in run.thresholds],
        "cases": [c.model_dump(mode="json") for c in run.cases],
        "total": run.total,
        "calls": {where: dict(counts) for where, counts in run.calls.items()},
        "skipped": run.skipped,
        "notes": run.notes,
    }


def _judge_run(run: JudgeRun, shown: set[str]) -> dict[str, Any]:
    return {
        **_common(run),
        "key": [run.key.test, run.key.judge, run.key.dataset],
        "judge": run.judge.model_dump(mode="json") if run.judge else None,
        "verdicts": {
            cid: v.model_dump(mode="json") for cid, v in run.verdicts.items() if cid in shown
        },
        "baseline": run.baseline.as_dict() if run.baseline else None,
        "baseline_data": run.baseline_data,
        "repeat": run.repeat,
    }


def _gen_run(run: GenRun, shown: set[str]) -> dict[str, Any]:
    ids = {a for c in run.cases if c.id in shown for a in run.answer_ids(c) if a in run.answers}
    return {
        **_common(run),
        "key": [run.key.test, run.key.generator, run.key.point, run.key.dataset],
        "generator": _dump(run.generator or run.generator_ref),
        "judge": _dump(run.judge or run.judge_ref),
        "sampling": run.sampling.model_dump(mode="json"),
        "samples": run.samples,
        "compare_with": run.compare_with,
        "require_better": run.require_better,
        "judge_rates": asdict(run.judge_rates) if run.judge_rates else None,
        "answers": {a: run.answers[a].model_dump(mode="json") for a in ids},
        "verdicts": {a: run.verdicts[a].model_dump(mode="json") for a in ids if a in run.verdicts},
        "relevancy": {a: v for a, v in run.relevancy.items() if a in ids},
        "statements": {a: v for a, v in run.statements.items() if a in ids},
    }


def _absorb(run: Run, data: dict[str, Any]) -> None:
    """What both kinds take from a worker: its verdicts, its skip reason, its notes."""
    run.total = max(run.total, data["total"])
    for where, counts in data["calls"].items():
        add_calls(run, where, Counter(counts))
    run.verdicts.update((i, Verdict.model_validate(v)) for i, v in data["verdicts"].items())
    run.skipped = run.skipped or data["skipped"]
    run.notes.extend(n for n in data["notes"] if n not in run.notes)


def _merge_judge_run(runs: dict[Key, Run], data: dict[str, Any]) -> None:
    key = RunKey(*data["key"])
    run = runs.get(key)
    if not isinstance(run, JudgeRun):
        judge = Judge.model_validate(data["judge"]) if data["judge"] else data["key"][1]
        run = JudgeRun(
            key,
            judge,
            Dataset.model_validate(data["dataset"]),
            tuple(parse_threshold(t) for t in data["thresholds"]),
            cases=[Case.model_validate(c) for c in data["cases"]],
            repeat=data["repeat"],
        )
        run.judge = judge if isinstance(judge, Judge) else None
        runs[key] = run
    _absorb(run, data)
    merge_baseline(run, data)


def _merge_gen_run(runs: dict[Key, Run], data: dict[str, Any]) -> None:
    key = GenRunKey(*data["key"])
    run = runs.get(key)
    if not isinstance(run, GenRun):
        run = GenRun(
            key,
            _load(Generator, data["generator"]),
            _load(Judge, data["judge"]),
            GenDataset.model_validate(data["dataset"]),
            Sampling.model_validate(data["sampling"]),
            data["samples"],
            tuple(parse_threshold(t) for t in data["thresholds"]),
            compare_with=data["compare_with"],
            require_better=data["require_better"],
            judge_rates=JudgeRates(**data["judge_rates"]) if data["judge_rates"] else None,
            cases=[GenCase.model_validate(c) for c in data["cases"]],
        )
        runs[key] = run
    if data["answers"]:  # a fixture generator's own settings, as the worker resolved them
        run.sampling = Sampling.model_validate(data["sampling"])
        run.samples = data["samples"]
    if run.generator is None and isinstance(run.generator_ref, Generator):
        run.generator = run.generator_ref
    if run.judge is None and isinstance(run.judge_ref, Judge):
        run.judge = run.judge_ref
    if run.generator is None and isinstance(data["generator"], dict):
        run.generator = Generator.model_validate(data["generator"])
    if run.judge is None and isinstance(data["judge"], dict):
        run.judge = Judge.model_validate(data["judge"])
    run.answers.update((a, Answer.model_validate(v)) for a, v in data["answers"].items())
    run.relevancy.update(data["relevancy"])
    run.statements.update(data.get("statements", {}))
    _absorb(run, data)


def _dump(value: BaseModel | str) -> dict[str, Any] | str:
    return value if isinstance(value, str) else value.model_dump(mode="json")


def _load(model: type[Generator] | type[Judge], value: dict[str, Any] | str) -> Any:
    return value if isinstance(value, str) else model.model_validate(value)
