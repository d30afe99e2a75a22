"""A judge that runs an open-weight chat model with a LoRA adapter in process (transformers)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_llmjudge.backends.hf_models import GENERATION_LOCK, model_and_tokenizer
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict, parse_verdict
from pytest_llmjudge.settings import Settings


class HFBackend:
    """Greedy decoding of the judge's prompt; the answer is parsed like any model's JSON, and
    its probability read from the logits of the two labels where the answer gives its label."""

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
        import torch

        from pytest_llmjudge.finetune.hf import MAX_NEW_TOKENS, prompt_ids

        with GENERATION_LOCK:
            started = time.perf_counter()
            model, tokenizer = self._model()
            ids = prompt_ids(tokenizer, self._judge.messages(case), self._max_length)
            inputs = torch.tensor([ids])
            with torch.no_grad():
                output = model.generate(
                    input_ids=inputs,
                    attention_mask=torch.ones_like(inputs),
                    max_new_tokens=min(self._judge.max_tokens, MAX_NEW_TOKENS),
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    output_scores=True,
                    return_dict_in_generate=True,
                )
            answer = output.sequences[0][len(ids) :].tolist()
            text = tokenizer.decode(answer, skip_special_tokens=True)
            probability = label_probability(tokenizer, answer, output.scores)
            return text, len(ids) + len(answer), time.perf_counter() - started, probability

    async def judge(self, case: Case) -> Verdict:
        try:
            text, tokens, seconds, probability = await asyncio.to_thread(self._generate, case)
        except (RuntimeError, ValueError, OSError) as exc:
            return Verdict.unscored(f"hf generation failed: {type(exc).__name__}: {exc}")
        verdict = parse_verdict(text)
        update: dict[str, Any] = {"latency_s": seconds, "tokens": tokens}
        if verdict.scored and probability is not None:
            update["probability"] = probability
        return verdict.model_copy(update=update)

    async def aclose(self) -> None:
        return None


_LABEL_AT = re.compile(r'"consistency"\s*:\s*"?$')  # the decoded answer just before its label


def label_probability(tokenizer: Any, answer: Sequence[int], scores: Sequence[Any]) -> float | None:
    """P("1") against P("0") at the step where the answer gives its label (after
    `"consistency":`), from that step's next-token logits over the two label tokens of the form
    the model wrote ("1" or " 1"); None when the answer has no such step."""
    import torch

    pairs = [
        tuple(tokenizer.encode(f"{space}{label}", add_special_tokens=False)[-1] for label in "01")
        for space in ("", " ")
    ]
    for step, token in enumerate(answer[: len(scores)]):
        pair = next((p for p in pairs if token in p), None)
        if pair is None or not _LABEL_AT.search(tokenizer.decode(answer[:step])):
            continue
        logits = scores[step][0][list(pair)].float()
        return float(torch.softmax(logits, dim=0)[1])
    return None
