"""Judge declarations (prompted, few-shot, fine-tuned) and prompt rendering."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model import prompts
from pytest_llmjudge.model.dataset import DEFAULT_FIELDS, Case, FieldMap, load_cases
from pytest_llmjudge.model.paths import declared, declaring_dir

Kind = Literal["prompted", "few-shot", "fine-tuned"]
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


class Example(BaseModel):
    """A labelled example shown to a few-shot judge."""

    model_config = ConfigDict(frozen=True)

    premise: str
    hypothesis: str
    target: int
    reason: str = ""


class Judge(BaseModel):
    """A judge variant: which backend and model answers, with which prompt and settings.

    Attributes:
        name: the judge's id in test ids (`-k <name>`) and reports.
        kind: prompted, few-shot or fine-tuned; picks the built-in prompt.
        backend: "mistral", "local", "function" or "hf" (a LoRA adapter run in process).
        model: the model id (for "local": a label of the trained artifact).
        prompt: a prompt template with {premise}, {hypothesis} (and {examples}); default by kind.
        examples: labelled examples rendered into {examples}.
        temperature: sampling temperature.
        max_tokens: the answer's token limit.
        server_url: a server speaking the backend's protocol (overrides the session's).
        options: backend-specific settings (e.g. the local judge's training files).
        function: for backend "function": a callable (case -> Verdict | dict | str), sync or async.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.+-]+$")
    kind: Kind = "prompted"
    backend: str = "mistral"
    model: str = ""
    prompt: str | None = None
    examples: tuple[Example, ...] = ()
    temperature: float = 0.0
    max_tokens: int = 256
    server_url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    function: Callable[[Case], Any] | None = Field(default=None, exclude=True)

    @property
    def template(self) -> str:
        """The prompt template this judge uses."""
        return self.prompt or prompts.BY_KIND[self.kind]

    def messages(self, case: Case) -> list[dict[str, str]]:
        """The chat messages that ask this judge about `case`."""
        text = fill(
            self.template,
            examples=render_examples(self.examples),
            premise=case.premise,
            hypothesis=case.hypothesis,
        )
        return [{"role": "user", "content": text}]


def fill(template: str, **values: str) -> str:
    """Fill {name} placeholders in one pass ({{ and }} are literal braces; other text is kept)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(match.group(1), token)

    return _PLACEHOLDER.sub(replace, template)


def render_examples(examples: tuple[Example, ...]) -> str:
    """The examples block of a few-shot prompt."""
    blocks = []
    for example in examples:
        reason = example.reason or (
            "Every fact of the summary is supported by the document."
            if example.target
            else "The summary states a fact that the document does not support."
        )
        blocks.append(
            fill(
                prompts.EXAMPLE,
                premise=example.premise,
                hypothesis=example.hypothesis,
                answer=json.dumps({"reason": reason, "consistency": example.target}),
            )
        )
    return "\n\n".join(blocks)


def draw_examples(
    path: Path | str, k: int, seed: int = 0, fields: FieldMap = DEFAULT_FIELDS
) -> tuple[Example, ...]:
    """Draw k labelled examples from a JSONL file, deterministically and balanced by target."""
    cases = load_cases(path, fields)
    rng = random.Random(seed)
    positives = [c for c in cases if c.target == 1]
    negatives = [c for c in cases if c.target == 0]
    rng.shuffle(positives)
    rng.shuffle(negatives)
    interleaved = [c for pair in zip_longest(positives, negatives) for c in pair if c is not None]
    picked = interleaved[:k]
    return tuple(
        Example(premise=c.premise, hypothesis=c.hypothesis, target=c.target) for c in picked
    )


def prompted_judge(name: str, model: str, **settings: Any) -> Judge:
    """A zero-shot prompted judge."""
    return Judge(name=name, kind="prompted", model=model, **settings)


def few_shot_judge(
    name: str, model: str, examples_from: Path | str, k: int = 4, seed: int = 0, **settings: Any
) -> Judge:
    """A few-shot judge with k examples drawn from a JSONL file that is not the evaluated one
    (a relative path is relative to the calling file)."""
    examples = draw_examples(declared(examples_from, declaring_dir()), k, seed)
    return Judge(name=name, kind="few-shot", model=model, examples=examples, **settings)


def fine_tuned_judge(name: str, model: str, **settings: Any) -> Judge:
    """A judge for a fine-tuned model id, with the shorter fine-tuned prompt."""
    return Judge(name=name, kind="fine-tuned", model=model, **settings)


def local_judge(
    name: str,
    train: list[Path | str | tuple[Path | str, float]],
    seed: int = 0,
    validation: Path | str | None = None,
    threshold_for: str = "accuracy",
    decision_threshold: float | None = None,
    **settings: Any,
) -> Judge:
    """The offline judge, trained in process on JSONL files (optionally weighted) before it runs
    (relative paths are relative to the calling file). With `validation`, a labelled JSONL
    file, its decision threshold is fit there for `threshold_for` (accuracy, f1, kappa, ...)
    and kept with the trained model; else `decision_threshold` (default 0.5) is used."""
    if decision_threshold is not None:
        if validation is not None:
            raise ConfigError(
                f"local_judge {name!r}: give validation= (to fit its decision threshold there) "
                "or decision_threshold=, not both"
            )
        if not 0.0 < decision_threshold < 1.0:
            raise ConfigError(
                f"local_judge {name!r}: decision_threshold must lie strictly between 0 and 1, "
                f"got {decision_threshold!r}"
            )
    base = declaring_dir()
    fit = (
        {"validation": str(declared(validation, base)), "threshold_for": threshold_for}
        if validation is not None
        else {}
    )
    chosen = (
        {"settings": {"decision_threshold": float(decision_threshold)}}
        if decision_threshold is not None
        else {}
    )
    sources = [
        {"path": str(declared(item[0], base)), "weight": float(item[1])}
        if isinstance(item, tuple)
        else {"path": str(declared(item, base)), "weight": 1.0}
        for item in train
    ]
    return Judge(
        name=name,
        kind="fine-tuned",
        backend="local",
        model="local-lexical",
        options={"train": sources, "seed": seed, **fit, **chosen},
        **settings,
    )
