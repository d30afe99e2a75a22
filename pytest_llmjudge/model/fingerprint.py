"""Fingerprints: what a run's result depends on, hashed part by part, so that two results are
compared only when they judged the same cases the same way (and a change is named, not hidden).

A judge run's parts: `dataset` (its cases after field mapping, each by `case_digest`), `prompt`
(the rendered template and few-shot examples), `model`, `sampling` (temperature, token limit),
`backend`, and `finetune` (what a trained judge was made from: its options, with the content of
its training files). A generator run's: `dataset`, `prompt` (its prompt template), `model`,
`sampling`, `backend`, `finetune` (its adapter) and `judge` (its judge's fingerprint id). `id`
hashes them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.gen_dataset import GenCase
from pytest_llmjudge.model.generator import GENERATE_PROMPT, Generator, Sampling
from pytest_llmjudge.model.judge import Judge, render_examples
from pytest_llmjudge.model.runs import JudgeRun, Run

# the parts a comparison with a baseline names when they differ (the dataset is checked per case)
NAMED_PARTS = {
    "prompt": "the prompt",
    "model": "the model",
    "sampling": "the sampling settings",
    "backend": "the backend",
    "finetune": "the fine-tune",
}


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """What changed from one fingerprint to another, in words ('the model: a -> b'); nothing
    when `before` is missing (a baseline recorded before fingerprints)."""
    if not before:
        return []
    found = []
    for part, words in NAMED_PARTS.items():
        if part in before and part in after and before[part] != after[part]:
            shown = ""
            if part in ("model", "backend"):
                shown = f": {before[part] or '(none)'} -> {after[part] or '(none)'}"
            found.append(f"{words}{shown}")
    return found


def digest(value: Any) -> str:
    """A short SHA-256 of a JSON value in canonical form."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def case_digest(case: Case | GenCase) -> str:
    """The digest of a case's content (not its id, source line or slices)."""
    if isinstance(case, Case):
        return digest([case.premise, case.hypothesis, case.target])
    return digest([case.context, case.prompt, case.reference])


def dataset_digest(cases: Iterable[Case | GenCase]) -> str:
    """The digest of a set of cases, whatever their order."""
    return digest(sorted((c.id, case_digest(c)) for c in cases))


def run_fingerprint(run: Run) -> dict[str, Any]:
    """The fingerprint of a run of either kind, over its selected cases."""
    if isinstance(run, JudgeRun):
        return judge_fingerprint(run.judge, run.cases, run.repeat)
    return generator_fingerprint(run.generator, run.sampling, run.judge, run.cases)


def judge_fingerprint(
    judge: Judge | None, cases: Iterable[Case], repeat: int = 1
) -> dict[str, Any]:
    """The fingerprint of a judge run (a judge not resolved yet has only its dataset part); its
    sampling part holds how many times each case is judged."""
    parts: dict[str, Any] = {"dataset": dataset_digest(cases)}
    if judge is not None:
        sampling = {"temperature": judge.temperature, "max_tokens": judge.max_tokens}
        parts |= {
            "prompt": digest([judge.template, render_examples(judge.examples)]),
            "model": judge.model,
            "sampling": digest({**sampling, "repeat": repeat}),
            "backend": judge.backend,
            "finetune": _finetune(judge.options),
        }
    return {**parts, "id": digest(parts)}


def generator_fingerprint(
    generator: Generator | None,
    sampling: Sampling,
    judge: Judge | None,
    cases: Iterable[GenCase],
) -> dict[str, Any]:
    """The fingerprint of a generator run at one sampling point."""
    parts: dict[str, Any] = {
        "dataset": dataset_digest(cases),
        "sampling": digest(sampling.model_dump()),
    }
    if generator is not None:
        parts |= {
            "prompt": digest(generator.prompt or GENERATE_PROMPT),
            "model": generator.model,
            "backend": generator.backend,
            "finetune": _finetune({"adapter": generator.adapter, **generator.options}),
        }
    if judge is not None:
        parts["judge"] = judge_fingerprint(judge, ())["id"]
    return {**parts, "id": digest(parts)}


def _finetune(options: dict[str, Any]) -> str | None:
    """What a trained judge or generator was made from: its options, and the content of the
    training files they name (a file edited in place is another fine-tune)."""
    if not options:
        return None
    contents = [_file_digest(Path(str(t["path"]))) for t in options.get("train") or []]
    return digest([options, contents])


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None
