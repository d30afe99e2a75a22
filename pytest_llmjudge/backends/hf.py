"""A judge that runs an open-weight chat model with a LoRA adapter in process (transformers)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pytest_llmjudge.backends.hf_models import GENERATION_LOCK, model_and_tokenizer
from pytest_llmjudge.backends.hf_prompts import judge_answer
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict, parse_verdict
from pytest_llmjudge.settings import Settings


class HFBackend:
    """Greedy decoding of the judge's prompt; the answer is parsed like any model's JSON, and
    its probability read from the logits of the two labels where the answer gives its label
    (with a fitted decision threshold, the label is the probability's side of it)."""

    def __init__(self, judge: Judge, settings: Settings) -> None:
        self._judge = judge
        self.notes: list[str] = []
        options = judge.options
        if not options.get("base") or not options.get("adapter"):
            raise ConfigError(
                f"judge {judge.name!r}: backend 'hf' needs options 'base' and 'adapter' "
                "(use the llmjudge_finetune fixture)"
            )
        self._base = str(options["base"])
        self._adapter = Path(options["adapter"])
        self._cache_dir = Path(options.get("cache_dir") or settings.artifacts_dir)
        self._max_length = int(options.get("max_length", 256))
        threshold = options.get("threshold")
        self._threshold = float(threshold) if threshold is not None else None

    def unavailable(self) -> str | None:
        from pytest_llmjudge.finetune.hf import missing_extra

        reason = missing_extra(self._base)
        if reason is None and not self._adapter.exists():
            reason = f"LoRA adapter {self._adapter} not found"
        return reason

    def _model(self) -> tuple[Any, Any]:
        model, tokenizer, loaded = model_and_tokenizer(self._base, self._cache_dir, self._adapter)
        if loaded:
            self.notes.append(f"hf judge {self._judge.name!r}: loaded adapter {self._adapter}")
        return model, tokenizer

    def _generate(self, case: Case) -> tuple[str, int, float, float | None]:
        with GENERATION_LOCK:
            started = time.perf_counter()
            model, tokenizer = self._model()
            messages = self._judge.messages(case)
            text, tokens, probability = judge_answer(
                model, tokenizer, messages, self._max_length, self._judge.max_tokens
            )
            return text, tokens, time.perf_counter() - started, probability

    async def judge(self, case: Case) -> Verdict:
        try:
            text, tokens, seconds, probability = await asyncio.to_thread(self._generate, case)
        except (RuntimeError, ValueError, OSError) as exc:
            return Verdict.unscored(f"hf generation failed: {type(exc).__name__}: {exc}")
        verdict = parse_verdict(text)
        update: dict[str, Any] = {"latency_s": seconds, "tokens": tokens}
        if verdict.scored and probability is not None:
            update["probability"] = probability
            if self._threshold is not None:  # fit on validation rows (llmjudge_finetune)
                update["prediction"] = int(probability >= self._threshold)
        return verdict.model_copy(update=update)

    async def aclose(self) -> None:
        return None
